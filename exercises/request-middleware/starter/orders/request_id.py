"""Request ids and timing for every request: see the prompt.

Write the middleware (and anything it needs) here, and list it in
MIDDLEWARE in storefront/settings.py.
"""
