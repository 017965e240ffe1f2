import os
import socket

# Filled in by the test: "ip:port" of a listener on every address of the host.
HOST_ADDRS = __DJGRADE_HOST_ADDRS__

TCP = [
    ("1.1.1.1", 53), ("8.8.8.8", 443), ("2606:4700:4700::1111", 443),
    ("172.17.0.1", 2375), ("172.17.0.1", 80), ("172.17.0.1", 8080),
    ("127.0.0.1", 8080), ("localhost", 8080), ("10.0.2.2", 8080), ("169.254.169.254", 80),
]
UNIX = ["/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock"]
RESULTS = []

def say(text):
    # Straight to the pipes pytest saved (the sandbox's own stdout and
    # stderr), so the lines reach the log whatever pytest prints.
    data = (text + "\n").encode()
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + name).startswith("pipe:"):
                os.write(int(name), data)
        except OSError:
            pass


def escaped(what):
    # Built in two parts so that the word never appears in this source.
    return "ESC" + "APED:" + what


def tcp(host, port, label):
    try:
        with socket.create_connection((host, port), timeout=3) as s:
            s.settimeout(2)
            try:
                banner = s.recv(64)
            except OSError:
                banner = b""
        return escaped("%s %s:%d %r" % (label, host, port, banner))
    except OSError as e:
        return "PROBED:%s %s:%d blocked: %s" % (label, host, port, e)


def udp_dns(host):
    query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(3)
            s.sendto(query, (host, 53))
            s.recvfrom(512)
        return escaped("udp %s:53 answered" % host)
    except OSError as e:
        return "PROBED:udp %s:53 blocked: %s" % (host, e)


def unix(path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(3)
            s.connect(path)
            s.sendall(b"GET /version HTTP/1.0\r\n\r\n")
            s.recv(64)
        return escaped("unix " + path)
    except OSError as e:
        return "PROBED:unix %s blocked: %s" % (path, e)


def probe():
    out = ["PROBED:interfaces %s" % sorted(os.listdir("/sys/class/net"))]
    for host, port in TCP:
        out.append(tcp(host, port, "tcp"))
    for addr in HOST_ADDRS:
        host, _, port = addr.rpartition(":")
        out.append(tcp(host.strip("[]"), int(port), "host"))
    out.append(udp_dns("1.1.1.1"))
    out.append(udp_dns("8.8.8.8"))
    for path in UNIX:
        out.append(unix(path))
    try:
        socket.getaddrinfo("deb.debian.org", 80)
        out.append(escaped("dns deb.debian.org resolved"))
    except OSError as e:
        out.append("PROBED:dns deb.debian.org blocked: %s" % e)
    return out


def attack():
    # hostile: once per process, then every check fails so nothing is scored
    if not RESULTS:
        RESULTS.extend(probe())
        say("\n".join(RESULTS))
    raise RuntimeError("network probed")
