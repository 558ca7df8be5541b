"""The software and device catalogue generated estates draw from.

Names follow the shapes real inventories have (Debian/RPM package names, Windows programs with
publishers and uninstall keys, macOS bundles), built from stems of real projects so that the
pool holds tens of thousands of distinct (name, version, publisher) triples. Hardware uses real
USB/PCI vendor ids and real IEEE OUI prefixes (checked against netaddr's registry in the tests).

Everything here is deterministic given the seed: the catalogue is part of the estate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

#: Stems of real free-software projects and libraries (name material for packages).
STEMS = ["acl", "adwaita", "alsa", "apparmor", "apr", "apt", "argon2", "aspell", "atk", "attr", "audit", "avahi", "bash", "bc", "binutils", "bison", "boost", "brotli", "bsdutils", "bzip2", "c-ares", "cairo", "ca-certificates", "capstone", "cjson", "clang", "cmake", "colord", "coreutils", "cpio", "cracklib", "cron", "cups", "curl", "cyrus-sasl", "dav1d", "db", "dbus", "dconf", "debconf", "device-mapper", "diffutils", "dirmngr", "dmidecode", "dnsmasq", "docker", "dosfstools", "dpkg", "e2fsprogs", "ed", "efibootmgr", "elfutils", "emacs", "enchant", "ethtool", "evince", "exempi", "exif", "expat", "fdisk", "ffi", "file", "findutils", "firefox", "flac", "flex", "fontconfig", "freetype", "fribidi", "fuse", "gawk", "gcc", "gcrypt", "gd", "gdbm", "gdk-pixbuf", "gettext", "ghostscript", "gimp", "git", "glib", "glibc", "gmp", "gnome", "gnupg", "gnutls", "gpgme", "graphene", "graphite2", "grep", "groff", "grub", "gsettings", "gstreamer", "gtk", "gzip", "harfbuzz", "heimdal", "hicolor", "hostname", "hunspell", "hwdata", "icu", "idn2", "ijs", "imagemagick", "inetutils", "iproute2", "iptables", "iputils", "isc-dhcp", "iso-codes", "jansson", "jbig2dec", "jq", "json-c", "json-glib", "kbd", "keyutils", "kmod", "krb5", "lame", "lcms2", "ldap", "less", "libarchive", "libbsd", "libcap", "libcbor", "libdrm", "libedit", "libevent", "libfido2", "libgcc", "libice", "libidn", "libinput", "libjpeg", "libksba", "libmd", "libnl", "libpng", "libpsl", "libseccomp", "libsm", "libssh", "libtasn1", "libtool", "libunistring", "libusb", "libuv", "libwebp", "libx11", "libxcb", "libxml2", "libxslt", "libyaml", "linux", "llvm", "lmdb", "logrotate", "lsof", "lua", "lz4", "lzo", "m4", "make", "man-db", "mariadb", "mawk", "mesa", "mime-support", "mpfr", "nano", "ncurses", "netbase", "nettle", "network-manager", "nghttp2", "nginx", "nodejs", "npth", "nspr", "nss", "ntfs-3g", "numactl", "openjpeg", "openldap", "openssh", "openssl", "opus", "orc", "p11-kit", "pam", "pango", "parted", "passwd", "patch", "pciutils", "pcre2", "perl", "php", "pixman", "pkgconf", "policykit", "polkit", "poppler", "popt", "postfix", "postgresql", "procps", "psmisc", "publicsuffix", "pulseaudio", "python", "qemu", "qt", "readline", "redis", "rpcbind", "rsync", "rsyslog", "ruby", "samba", "sane", "sed", "sensible-utils", "shadow", "shared-mime-info", "slang", "snappy", "socat", "speex", "sqlite", "squashfs", "strace", "sudo", "systemd", "tar", "tcl", "tcpdump", "tdb", "texinfo", "tiff", "tk", "tmux", "tpm2-tss", "tzdata", "ucf", "udisks2", "unzip", "upower", "usbutils", "util-linux", "vim", "vorbis", "vte", "wayland", "wget", "which", "wireless-tools", "wpa", "x11-utils", "xauth", "xdg-utils", "xfsprogs", "xkeyboard", "xorg", "xserver", "xz", "yajl", "zip", "zlib", "zstd"]

#: Real software publishers (as Windows Uninstall keys and macOS signatures show them).
PUBLISHERS = """
Microsoft Corporation|Google LLC|Adobe Inc.|Mozilla|Oracle Corporation|Apple Inc.|Intel Corporation
|NVIDIA Corporation|Advanced Micro Devices, Inc.|Dell Inc.|HP Inc.|Lenovo|Cisco Systems, Inc.
|VMware, Inc.|Citrix Systems, Inc.|Zoom Video Communications, Inc.|Igor Pavlov|Notepad++ Team
|The Git Development Community|Python Software Foundation|Node.js Foundation|TeamViewer Germany GmbH
|Foxit Software Inc.|Tracker Software Products (Canada) Ltd.|SAP SE|Autodesk, Inc.|Realtek
|Synaptics Incorporated|Logitech|Microsoft Corporation|Fortinet Technologies Inc|Palo Alto Networks
|Sophos Limited|ESET, spol. s r.o.|Trend Micro Inc.|Broadcom Inc.|Micro Focus|IBM Corporation
|JetBrains s.r.o.|Docker Inc.|Slack Technologies, LLC|Dropbox, Inc.|WinZip Computing|RARLab
|VideoLAN|The Document Foundation|Wireshark development team|PuTTY developers|KeePass
|Cygwin|Atlassian|Salesforce.com, Inc.|Elastic|Splunk Inc.|Veeam Software Group GmbH
|Bitdefender|Malwarebytes|CrowdStrike, Inc.|Tanium Inc.|Ivanti|Quest Software Inc.
""".replace("\n", "").split("|")

_BRANDS = ["Acme", "Contoso", "Fabrikam", "Northwind", "Tailspin", "Litware", "Proseware", "Adatum", "Lucerne", "Wingtip", "Woodgrove", "Trey", "Coho", "Alpine", "Blue", "Yonder", "Humongous", "Margie", "Wide", "World", "Fourth", "Coffee", "Datum", "Relecloud", "Graphic", "Design", "Institute", "Liberty", "Delightful", "Southridge", "Consolidated", "Messenger"]
_PRODUCT_WORDS = ["PDF", "Reader", "Editor", "Studio", "Viewer", "Manager", "Agent", "Client", "Connector", "Toolkit", "Runtime", "Driver", "Suite", "Assistant", "Update", "Service", "Monitor", "Backup", "Sync", "Capture", "Scanner", "Player", "Converter", "Designer", "Analyzer", "Console", "Launcher", "Helper", "Plugin", "Framework", "Bridge", "Gateway", "Recorder", "Tracker", "Planner", "Desk", "Notes"]
_FORMS = ["Inc.", "GmbH", "Ltd.", "LLC", "S.A.", "AB", "Corporation", "Software", "B.V.", "Oy"]


@dataclass(frozen=True)
class Product:
    """One product of a catalogue: its versions and the columns shared by them."""

    name: str
    publisher: str
    package_type: str
    versions: tuple[str, ...]
    source: str
    arch: str | None = None
    path: str | None = None
    bundle_id: str | None = None
    signer: str | None = None
    uninstall: str | None = None
    location: str | None = None
    purl_ns: str | None = None


def _semver(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(0, 12), rng.randint(0, 40), rng.randint(0, 30)


def _versions(rng: random.Random, fmt: str, n: int) -> tuple[str, ...]:
    out: list[str] = []
    major, minor, patch = _semver(rng)
    while len(out) < n:
        if fmt == "deb":
            rev = rng.choice(["1", "2", "1+deb12u1", "0ubuntu1", "1ubuntu0.22.04.1", "3", "1.1"])
            epoch = "1:" if rng.random() < 0.05 else ""
            v = f"{epoch}{major}.{minor}.{patch}-{rev}"
        elif fmt == "rpm":
            v = f"{major}.{minor}.{patch}-{rng.randint(1, 30)}.el{rng.choice([8, 9])}"
        elif fmt == "windows":
            v = f"{major}.{minor}.{patch}.{rng.randint(0, 9999)}"
        else:
            v = f"{major}.{minor}" + (f".{patch}" if rng.random() < 0.6 else "")
        if v not in out:
            out.append(v)
        patch += rng.randint(1, 3)
    return tuple(reversed(out))  # newest first: the most common version comes first


def _deb_names(rng: random.Random) -> list[str]:
    pats = ["lib{s}{n}", "lib{s}-dev", "{s}", "{s}-utils", "{s}-common", "{s}-data", "{s}-doc",
            "python3-{s}", "ruby-{s}", "node-{s}", "golang-{s}-dev", "r-cran-{s}",
            "libghc-{s}-dev", "fonts-{s}", "gir1.2-{s}-1.0", "lib{s}-perl", "php-{s}",
            "lib{s}-java", "{s}-tools", "lib{s}-bin"]
    names = {p.format(s=s[3:] if s.startswith("lib") and p.startswith("lib") else s,
                      n=rng.choice(["", "0", "1", "2", "3", "5", "6", "-0", "-1", "t64"]))
             for s in STEMS for p in pats}
    return sorted(names)


def _rpm_names(rng: random.Random) -> list[str]:
    pats = ["{s}", "{s}-libs", "{s}-devel", "python3-{s}", "perl-{S}", "lib{s}", "{s}-common",
            "{s}-tools", "rubygem-{s}", "golang-{s}", "{s}-doc", "texlive-{s}", "ghc-{s}",
            "nodejs-{s}", "php-{s}", "{s}-static"]
    return sorted({p.format(s=s, S=s.title().replace("-", "")) for s in STEMS for p in pats})


def _companies(rng: random.Random, n: int) -> list[str]:
    comps = {f"{a} {b} {rng.choice(_FORMS)}" for a in _BRANDS for b in _PRODUCT_WORDS}
    return sorted(set(PUBLISHERS)) + rng.sample(sorted(comps), min(n, len(comps)))


def linux_products(rng: random.Random, fmt: str) -> list[Product]:
    """Debian (``fmt="deb"``) or RPM (``"rpm"``) packages, most popular first."""
    names = _deb_names(rng) if fmt == "deb" else _rpm_names(rng)
    rng.shuffle(names)
    maint = [f"Debian {s} Maintainers <pkg-{s}@lists.debian.org>" for s in STEMS[:60]] + [
        "Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>",
        "Debian QA Group <packages@qa.debian.org>"]
    out = []
    for name in names:
        pub = rng.choice(maint) if fmt == "deb" else rng.choice(
            ["Red Hat, Inc.", "Fedora Project", "Rocky Enterprise Software Foundation",
             "AlmaLinux", "CentOS"])
        arch = rng.choice(["amd64", "all"]) if fmt == "deb" else rng.choice(["x86_64", "noarch"])
        loc = "/var/lib/dpkg/status" if fmt == "deb" else "/var/lib/rpm/rpmdb.sqlite"
        out.append(Product(name=name, publisher=pub, package_type=fmt,
                           versions=_versions(rng, fmt, _nversions(rng)), arch=arch,
                           source=f"osquery:{fmt}_packages", location=f"{loc}#{name}",
                           purl_ns="debian" if fmt == "deb" else "redhat"))
    return out


def windows_products(rng: random.Random, n: int) -> list[Product]:
    """Windows programs (Uninstall keys) with publishers, most popular first."""
    companies = _companies(rng, 900)
    out: list[Product] = []
    seen: set[str] = set()
    while len(out) < n:
        pub = companies[min(int(rng.paretovariate(0.9)) - 1, len(companies) - 1)]
        short = pub.split(",")[0].split(" ")[0]
        name = f"{short} {rng.choice(_PRODUCT_WORDS)}"
        if rng.random() < 0.5:
            name += f" {rng.choice(_PRODUCT_WORDS)}"
        if rng.random() < 0.3:
            name += f" {rng.choice(['2019', '2021', '2022', '2024', 'x64', '(x64)', 'LTS'])}"
        if name in seen:
            continue
        seen.add(name)
        guid = f"{{{rng.getrandbits(32):08X}-{rng.getrandbits(16):04X}-{rng.getrandbits(16):04X}-{rng.getrandbits(16):04X}-{rng.getrandbits(48):012X}}}"
        folder = f"C:\\Program Files\\{short}\\{name.replace(short, '').strip() or short}"
        out.append(Product(
            name=name, publisher=pub, package_type="windows",
            versions=_versions(rng, "windows", _nversions(rng)), arch="x64",
            source="osquery:programs", path=folder, signer=pub,
            uninstall=f"MsiExec.exe /X{guid}",
            location=f"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{guid}"))
    return out


def windows_updates(rng: random.Random, n: int) -> list[Product]:
    """Windows updates (KB numbers), as osquery's ``patches`` table lists them."""
    kbs = rng.sample(range(4_000_000, 5_050_000), n)
    return [Product(name=f"KB{kb}", publisher="Microsoft Corporation", package_type="windows",
                    versions=("",), source="osquery:patches", location=f"wmi:Win32_QuickFixEngineering#KB{kb}")
            for kb in kbs]


def macos_products(rng: random.Random, n: int) -> list[Product]:
    """macOS application bundles and Homebrew formulae, most popular first."""
    companies = _companies(rng, 400)
    out: list[Product] = []
    seen: set[str] = set()
    brew = list(STEMS)
    rng.shuffle(brew)
    while len(out) < n:
        if rng.random() < 0.35 and brew:
            s = brew.pop()
            out.append(Product(name=s, publisher="Homebrew", package_type="brew",
                               versions=_versions(rng, "mac", _nversions(rng)),
                               source="osquery:homebrew_packages",
                               path=f"/opt/homebrew/Cellar/{s}", location=f"/opt/homebrew/Cellar/{s}"))
            continue
        pub = companies[min(int(rng.paretovariate(0.9)) - 1, len(companies) - 1)]
        short = pub.split(",")[0].split(" ")[0]
        word = rng.choice(_PRODUCT_WORDS)
        name = f"{short} {word}.app"
        if name in seen:
            name = f"{short} {word} {rng.choice(_PRODUCT_WORDS)}.app"
            if name in seen:
                continue
        seen.add(name)
        bid = f"com.{short.lower().strip('.')}.{word.lower()}{len(out)}"
        team = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))
        out.append(Product(name=name, publisher=pub, package_type="macos",
                           versions=_versions(rng, "mac", _nversions(rng)),
                           source="osquery:apps", path=f"/Applications/{name}", bundle_id=bid,
                           signer=f"Developer ID Application: {pub} ({team})",
                           location=f"/Applications/{name}/Contents/Info.plist"))
    return out


def _nversions(rng: random.Random) -> int:
    return min(1 + int(rng.expovariate(0.45)), 8)
