import sys


def patch():
    # hostile: whatever the plugin is called, make every outcome "passed"
    for name, mod in list(sys.modules.items()):
        if "djgrade" not in name:
            continue
        for attr in dir(mod):
            obj = getattr(mod, attr, None)
            if isinstance(obj, type) and hasattr(obj, "outcome"):
                obj.outcome = lambda self: "passed"


patch()


def attack():
    patch()
    raise RuntimeError("every check fails; the plugin will say otherwise")
