"""A small estate built in the tests: Linux, Windows and macOS hosts, hostile values included."""

from __future__ import annotations

from .conftest import snapshot

MSI = "{A1B2C3D4-1111-2222-3333-444455556666}"
AGENT_MSI = "{B2C3D4E5-2222-3333-4444-555566667777}"
HOSTILE_HOST = "<img src=x onerror=alert(1)>|`reboot`"


def estate(*, later: bool = False):
    """Snapshots of four hosts; ``later``: the next inventory, after some removal."""
    when = "2026-03-01T00:00:00Z" if later else "2026-02-01T00:00:00Z"
    lin1 = snapshot("lin-1", collected_at=when, software=[
        {"name": "xz-utils", "version": "5.6.1+really5.4.5-1" if later else "5.6.1-1",
         "package_type": "deb"},
        {"name": "liblzma5", "version": "5.6.1+really5.4.5-1" if later else "5.6.1-1",
         "package_type": "deb"},
        {"name": "bash", "version": "5.2-1", "package_type": "deb"},
    ])
    lin2 = snapshot("lin-2", institution="Agency B", collected_at=when, software=[
        {"name": "xz", "version": "5.6.0", "package_type": "rpm"},
        {"name": "kesl", "version": "11.2.0", "package_type": "rpm"},
    ], devices=[{"bus": "usb", "vendor_id": "12d1", "product_id": "1506",
                 "vendor_name": "Huawei"}])
    win = snapshot("win-1", platform="windows", hostname=HOSTILE_HOST, collected_at=when,
                   software=[
        {"name": "Kaspersky Endpoint Security", "version": "12.1", "package_type": "windows",
         "publisher": "AO Kaspersky Lab", "uninstall": f"MsiExec.exe /X{MSI}"},
        {"name": "Kaspersky Tools & Co", "version": "1.0", "package_type": "windows",
         "publisher": "AO Kaspersky Lab",
         "uninstall": '"C:\\Program Files\\KL\\uninst.exe" /S & del /q C:\\*'},
        {"name": "Kaspersky Helper", "version": "2.0", "package_type": "windows",
         "publisher": "AO Kaspersky Lab",
         "uninstall": '"C:\\Program Files\\KL\\helper uninstall.exe" /S'},
        {"name": "Kaspersky Security Center Agent", "version": "14.2", "package_type": "windows",
         "publisher": "AO Kaspersky Lab", "uninstall": '"C:\\Program Files\\KL\\setup.exe" /S',
         "location": f"SOFTWARE:/Microsoft/Windows/CurrentVersion/Uninstall/{AGENT_MSI}"},
    ])
    mac = snapshot("mac-1", platform="macos", collected_at=when, software=[
        {"name": "3CX Desktop App", "version": "18.12.407", "package_type": "macos",
         "path": "/Applications/3CX Desktop App.app", "bundle_id": "com.electron.3cx"},
        {"name": "Kaspersky'; rm -rf ~; echo '", "version": "1", "package_type": "macos",
         "path": "/Applications/Kaspersky'; rm -rf ~; echo '.app",
         "bundle_id": "com.kaspersky.kav"},
    ])
    if later:
        win.software.clear()
    return [lin1, lin2, win, mac]
