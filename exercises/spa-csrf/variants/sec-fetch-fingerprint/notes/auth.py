"""Authentication for the notes API: DRF's SessionAuthentication, CSRF check included (see settings)."""
