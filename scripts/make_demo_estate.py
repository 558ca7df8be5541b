#!/usr/bin/env python3
"""Build the bundled demo estate (src/kitvet/data/demo/estate.json.gz), deterministically.

~30 hosts in 3 institutions with realistic software and devices, a few carrying listed items:
a Kaspersky Endpoint Security install on Windows, a Hikvision camera and a Dahua recorder seen
by MAC address, a Huawei USB modem, a ZTE USB modem, a Debian host with xz-utils 5.6.1-1, the
3CX desktop app 18.12.416 — and decoys that must NOT be flagged (Debian's xz revert
5.6.1+really5.4.5-1, 3CX 18.12.422). Run: python scripts/make_demo_estate.py
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from kitvet.model import Host, Snapshot
from kitvet.model.document import dump_document

OUT = Path(__file__).resolve().parents[1] / "src/kitvet/data/demo/estate.json.gz"
WHEN = "2026-11-02T09:00:00+00:00"
INSTITUTIONS = ("Secretariat", "Research Agency", "Regional Office")

DEB = [("adduser", "3.134"), ("apt", "2.6.1"), ("base-files", "12.4+deb12u5"), ("bash", "5.2.15-2+b2"),
       ("bsdutils", "1:2.38.1-5+deb12u1"), ("ca-certificates", "20230311"), ("coreutils", "9.1-1"),
       ("curl", "7.88.1-10+deb12u5"), ("dash", "0.5.12-2"), ("debconf", "1.5.82"), ("dpkg", "1.21.22"),
       ("e2fsprogs", "1.47.0-2"), ("findutils", "4.9.0-4"), ("gpgv", "2.2.40-1.1"), ("grep", "3.8-5"),
       ("gzip", "1.12-1"), ("hostname", "3.23+nmu1"), ("init-system-helpers", "1.65.2"),
       ("libc6", "2.36-9+deb12u4"), ("libssl3", "3.0.11-1~deb12u2"), ("libsystemd0", "252.22-1~deb12u1"),
       ("login", "1:4.13+dfsg1-1+b1"), ("mount", "2.38.1-5+deb12u1"), ("nano", "7.2-1"),
       ("openssh-client", "1:9.2p1-2+deb12u2"), ("openssh-server", "1:9.2p1-2+deb12u2"),
       ("openssl", "3.0.11-1~deb12u2"), ("passwd", "1:4.13+dfsg1-1+b1"), ("perl-base", "5.36.0-7+deb12u1"),
       ("procps", "2:4.0.2-3"), ("python3", "3.11.2-1+b1"), ("sed", "4.9-1"), ("sudo", "1.9.13p3-1+deb12u1"),
       ("systemd", "252.22-1~deb12u1"), ("tar", "1.34+dfsg-1.2+deb12u1"), ("tzdata", "2024a-0+deb12u1"),
       ("util-linux", "2.38.1-5+deb12u1"), ("vim-tiny", "2:9.0.1378-2"), ("wget", "1.21.3-1+b2"),
       ("zlib1g", "1:1.2.13.dfsg-1"), ("nginx", "1.22.1-9"), ("postgresql-15", "15.6-0+deb12u1"),
       ("rsyslog", "8.2302.0-1"), ("cron", "3.0pl1-162"), ("logrotate", "3.21.0-1")]
WIN = [("Microsoft Edge", "130.0.2849.80", "Microsoft Corporation"),
       ("Microsoft 365 Apps for enterprise - en-us", "16.0.17928.20156", "Microsoft Corporation"),
       ("Microsoft Teams", "24295.605.3225.8804", "Microsoft Corporation"),
       ("Google Chrome", "131.0.6778.86", "Google LLC"), ("Mozilla Firefox (x64 en-US)", "132.0.2", "Mozilla"),
       ("Adobe Acrobat Reader (64-bit)", "24.004.20220", "Adobe"), ("7-Zip 23.01 (x64)", "23.01", "Igor Pavlov"),
       ("VLC media player", "3.0.21", "VideoLAN"), ("Notepad++ (64-bit x64)", "8.7.1", "Notepad++ Team"),
       ("Zoom Workplace (64-bit)", "6.2.10", "Zoom Video Communications, Inc."),
       ("Cisco Secure Client - AnyConnect VPN", "5.1.4.74", "Cisco Systems, Inc."),
       ("Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.40.33810", "14.40.33810.0",
        "Microsoft Corporation"), ("KeePassXC", "2.7.9", "KeePassXC Team"),
       ("Git", "2.47.0", "The Git Development Community"), ("PuTTY release 0.81 (64-bit)", "0.81.0.0", "Simon Tatham")]
MAC = [("Safari", "18.1", "com.apple.Safari"), ("Keynote", "14.2", "com.apple.iWork.Keynote"),
       ("Google Chrome", "131.0.6778.86", "com.google.Chrome"), ("Firefox", "132.0.2", "org.mozilla.firefox"),
       ("Microsoft Word", "16.90", "com.microsoft.Word"), ("Microsoft Outlook", "16.90", "com.microsoft.Outlook"),
       ("Slack", "4.41.97", "com.tinyspeck.slackmacgap"), ("zoom.us", "6.2.10", "us.zoom.xos"),
       ("iTerm", "3.5.5", "com.googlecode.iterm2"), ("1Password", "8.10.50", "com.1password.1password")]
USB = [("046d", "c52b", "Logitech, Inc.", "Unifying Receiver"), ("046d", "085e", "Logitech, Inc.", "BRIO Ultra HD Webcam"),
       ("0781", "5583", "SanDisk Corp.", "Ultra Fit"), ("413c", "2113", "Dell Computer Corp.", "KB216 Wired Keyboard"),
       ("1d6b", "0003", "Linux Foundation", "3.0 root hub"), ("8087", "0026", "Intel Corp.", "AX201 Bluetooth")]
PCI = [("8086", "9a49", "Intel Corporation", "TigerLake-LP GT2 [Iris Xe Graphics]"),
       ("8086", "a0f0", "Intel Corporation", "Wi-Fi 6 AX201"), ("10ec", "8168", "Realtek Semiconductor Co., Ltd.",
       "RTL8111/8168/8411 PCI Express Gigabit Ethernet Controller"), ("144d", "a80a", "Samsung Electronics Co Ltd",
       "NVMe SSD Controller PM9A1/PM9A3/980PRO")]
NEIGHBOURS = [("3c:d9:2b", "Hewlett Packard"), ("00:1e:c9", "Dell Inc."), ("00:1b:21", "Intel Corporate"),
              ("00:50:56", "VMware, Inc.")]


def mac(prefix: str, rng: random.Random) -> str:
    return prefix + ":" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))


def host(name: str, inst: str, platform: str, os_name: str, os_version: str) -> Snapshot:
    return Snapshot(host=Host(host_id=f"demo-{name}", hostname=name, institution=inst,
                              platform=platform, os_name=os_name, os_version=os_version,
                              collected_at=WHEN, sources=("demo",)))


def linux(name: str, inst: str, rng: random.Random, xz: str = "5.4.1-0.2") -> Snapshot:
    s = host(name, inst, "linux", "Debian GNU/Linux", "12 (bookworm)")
    pkgs = [*rng.sample(DEB, k=rng.randint(30, len(DEB))), ("xz-utils", xz), ("liblzma5", xz)]
    for i, (n, v) in enumerate(sorted(pkgs)):
        s.add_software(source="dpkg", location=f"/var/lib/dpkg/status:{1 + i * 27}", name=n, version=v,
                       publisher="Debian", package_type="deb", arch="amd64",
                       purl=f"pkg:deb/debian/{n}@{v}?arch=amd64&distro=debian-12")
    for vid, did, vn, dn in rng.sample(PCI, k=2):
        s.add_device(source="sysfs", location="/sys/bus/pci/devices", bus="pci", vendor_id=vid,
                     product_id=did, vendor_name=vn, product_name=dn)
    return s


def windows(name: str, inst: str, rng: random.Random, extra: list[dict] | None = None) -> Snapshot:
    s = host(name, inst, "windows", "Microsoft Windows 11 Enterprise", "10.0.22631")
    for n, v, p in rng.sample(WIN, k=rng.randint(9, len(WIN))):
        s.add_software(source="registry", location=f"SOFTWARE:\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{n}",
                       name=n, version=v, publisher=p, package_type="windows")
    for r in extra or []:
        s.add_software(source="registry", package_type="windows", **r)
    for vid, pid, vn, pn in rng.sample(USB, k=3):
        s.add_device(source="osquery:usb_devices", bus="usb", vendor_id=vid, product_id=pid,
                     vendor_name=vn, product_name=pn)
    return s


def macos(name: str, inst: str, rng: random.Random) -> Snapshot:
    s = host(name, inst, "macos", "macOS", "15.1")
    for n, v, b in rng.sample(MAC, k=rng.randint(6, len(MAC))):
        s.add_software(source="macos-apps", location=f"/Applications/{n}.app", name=n, version=v,
                       bundle_id=b, package_type="macos", path=f"/Applications/{n}.app")
    return s


def build() -> list[Snapshot]:
    rng = random.Random(2018)
    snaps: list[Snapshot] = []
    for i in range(1, 11):
        inst = INSTITUTIONS[(i - 1) % 3]
        snaps.append(windows(f"ws-{i:03d}", inst, rng))
    for i in range(1, 8):
        snaps.append(linux(f"srv-{i:03d}", INSTITUTIONS[i % 3], rng))
    for i in range(1, 7):
        snaps.append(macos(f"mac-{i:03d}", INSTITUTIONS[(i + 1) % 3], rng))
    # Listed items, each on a realistic host.
    snaps.append(windows("ws-kes-01", "Secretariat", rng, extra=[{
        "name": "Kaspersky Endpoint Security for Windows", "version": "12.5.0.538",
        "publisher": "AO Kaspersky Lab",
        "path": r"C:\Program Files (x86)\Kaspersky Lab\KES.12.5.0\avp.exe",
        "location": "SOFTWARE:\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{1A59064A-12A9-469F-99F6-04BF118DBCFF}",
        "uninstall": 'MsiExec.exe /X{1A59064A-12A9-469F-99F6-04BF118DBCFF}'}]))
    snaps.append(windows("ws-3cx-01", "Regional Office", rng, extra=[{
        "name": "3CX Desktop App", "version": "18.12.416", "publisher": "3CX",
        "path": r"C:\Users\agent\AppData\Local\Programs\3CXDesktopApp\3CXDesktopApp.exe",
        "uninstall": r'"C:\Users\agent\AppData\Local\Programs\3CXDesktopApp\Uninstall 3CXDesktopApp.exe"'}]))
    snaps.append(windows("ws-3cx-02", "Regional Office", rng, extra=[{
        "name": "3CX Desktop App", "version": "18.12.422", "publisher": "3CX"}]))  # fixed build
    modem = windows("ws-lte-01", "Research Agency", rng)
    modem.add_device(source="osquery:usb_devices", bus="usb", vendor_id="12d1", product_id="1506",
                     vendor_name="Huawei Technologies Co., Ltd.", product_name="Modem/Networkcard")
    snaps.append(modem)
    zte = linux("lab-lte-02", "Research Agency", rng)
    zte.add_device(source="sysfs", location="/sys/bus/usb/devices/1-2", bus="usb", vendor_id="19d2",
                   product_id="1405", vendor_name="ZTE WCDMA Technologies MSM", product_name="MF667")
    snaps.append(zte)
    snaps.append(linux("build-01", "Research Agency", rng, xz="5.6.1-1"))  # backdoored upload
    snaps.append(linux("build-02", "Research Agency", rng, xz="5.6.1+really5.4.5-1"))  # the revert
    gw = linux("gw-01", "Regional Office", rng)
    for prefix, org in [*NEIGHBOURS, ("bc:5e:33", "Hangzhou Hikvision Digital Technology Co.,Ltd."), ("74:c9:29", "Zhejiang Dahua Technology Co., Ltd.")]:
        gw.add_device(source="neighbours", location="/proc/net/arp", bus="network", mac=mac(prefix, rng),
                      ip=f"10.20.0.{rng.randrange(2, 250)}", oui_org=org)
    snaps.append(gw)
    return snaps


def main() -> None:
    doc = dump_document(build())
    doc["generator"] = "kitvet demo estate (scripts/make_demo_estate.py)"
    data = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT, "wb", mtime=0) as fh:
        fh.write(data)
    print(f"{OUT}: {len(doc['snapshots'])} hosts")


if __name__ == "__main__":
    main()
