HOG = []


def attack():
    # hostile: 64 MiB at a time, every page written, never freed
    while True:
        HOG.append(b"m" * (64 << 20))
