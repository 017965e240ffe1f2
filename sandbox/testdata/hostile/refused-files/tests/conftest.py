# hostile: if this file were applied, the run could not start
raise SystemExit("a refused file was applied")
