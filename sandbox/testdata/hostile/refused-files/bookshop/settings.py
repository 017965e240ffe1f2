raise SystemExit("settings were applied")
