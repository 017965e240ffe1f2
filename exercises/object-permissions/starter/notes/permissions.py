"""Permission classes for the notes API.

Nothing here yet: the API currently lets any signed-in user do anything.
"""
from rest_framework import permissions  # noqa: F401
