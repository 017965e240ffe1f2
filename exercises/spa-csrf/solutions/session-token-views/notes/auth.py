"""Nothing here any more: DRF's own SessionAuthentication (with its CSRF check) is used."""
