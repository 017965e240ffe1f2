# hostile: settings are not editable; if this were applied, nothing would run
while True:
    pass
