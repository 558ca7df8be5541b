"""Devices of generated hosts: PCI and USB ids from usb.ids/pci.ids, real IEEE OUI prefixes.

A host has the built-in devices of its hardware model (PCI functions, internal USB hubs and
radios), a few removable USB peripherals and the network neighbours its ARP cache saw.
"""

from __future__ import annotations

import random

#: (vendor_id, product_id, vendor_name, product_name) of built-in PCI functions.
PCI = [
    ("8086", "9a14", "Intel Corporation", "11th Gen Core Processor Host Bridge/DRAM Registers"),
    ("8086", "9a49", "Intel Corporation", "TigerLake-LP GT2 [Iris Xe Graphics]"),
    ("8086", "a0ed", "Intel Corporation", "Tiger Lake-LP USB 3.2 Gen 2x1 xHCI Host Controller"),
    ("8086", "a0ef", "Intel Corporation", "Tiger Lake-LP Shared SRAM"),
    ("8086", "a0e0", "Intel Corporation", "Tiger Lake-LP Management Engine Interface"),
    ("8086", "a0c8", "Intel Corporation", "Tiger Lake-LP Smart Sound Technology Audio Controller"),
    ("8086", "a0a3", "Intel Corporation", "Tiger Lake-LP SMBus Controller"),
    ("8086", "a0f0", "Intel Corporation", "Wi-Fi 6 AX201"),
    ("8086", "15fc", "Intel Corporation", "Ethernet Connection (13) I219-V"),
    ("8086", "7ae0", "Intel Corporation", "Alder Lake-S PCH USB 3.2 Gen 2x2 XHCI Controller"),
    ("8086", "2723", "Intel Corporation", "Wi-Fi 6 AX200"),
    ("8086", "1533", "Intel Corporation", "I210 Gigabit Network Connection"),
    ("10de", "1eb8", "NVIDIA Corporation", "TU104GL [Tesla T4]"),
    ("10de", "1f99", "NVIDIA Corporation", "TU117M"),
    ("1002", "1638", "Advanced Micro Devices, Inc. [AMD/ATI]", "Cezanne [Radeon Vega Series]"),
    ("10ec", "8168", "Realtek Semiconductor Co., Ltd.",
     "RTL8111/8168/8411 PCI Express Gigabit Ethernet Controller"),
    ("10ec", "525a", "Realtek Semiconductor Co., Ltd.", "RTS525A PCI Express Card Reader"),
    ("144d", "a808", "Samsung Electronics Co Ltd", "NVMe SSD Controller SM981/PM981/PM983"),
    ("1987", "5012", "Phison Electronics Corporation", "E12 NVMe Controller"),
    ("14e4", "165f", "Broadcom Inc. and subsidiaries", "NetXtreme BCM5720 Gigabit Ethernet PCIe"),
    ("15ad", "0405", "VMware", "SVGA II Adapter"),
    ("15ad", "07b0", "VMware", "VMXNET3 Ethernet Controller"),
    ("1af4", "1000", "Red Hat, Inc.", "Virtio network device"),
    ("1af4", "1001", "Red Hat, Inc.", "Virtio block device"),
    ("1b36", "000d", "Red Hat, Inc.", "QEMU XHCI Host Controller"),
]

#: Built-in USB devices (hubs, radios, cameras).
USB_BUILTIN = [
    ("1d6b", "0002", "Linux Foundation", "2.0 root hub"),
    ("1d6b", "0003", "Linux Foundation", "3.0 root hub"),
    ("8087", "0026", "Intel Corp.", "AX201 Bluetooth"),
    ("8087", "0029", "Intel Corp.", "AX200 Bluetooth"),
    ("0bda", "5411", "Realtek Semiconductor Corp.", "RTS5411 Hub"),
    ("05e3", "0610", "Genesys Logic, Inc.", "Hub"),
    ("2109", "2813", "VIA Labs, Inc.", "VL813 Hub"),
]

#: Removable USB peripherals.
USB_PERIPHERALS = [
    ("046d", "c52b", "Logitech, Inc.", "Unifying Receiver"),
    ("046d", "c077", "Logitech, Inc.", "M105 Optical Mouse"),
    ("046d", "c31c", "Logitech, Inc.", "Keyboard K120"),
    ("413c", "2113", "Dell Computer Corp.", "KB216 Wired Keyboard"),
    ("413c", "301a", "Dell Computer Corp.", "Dell MS116 USB Optical Mouse"),
    ("0781", "5581", "SanDisk Corp.", "Ultra"),
    ("0951", "1666", "Kingston Technology", "DataTraveler 100 G3/G4/SE9 G2/50"),
    ("1050", "0407", "Yubico.com", "Yubikey 4/5 OTP+U2F+CCID"),
    ("0b95", "1790", "ASIX Electronics Corp.", "AX88179 Gigabit Ethernet"),
    ("05ac", "12a8", "Apple, Inc.", "iPhone 5/5C/5S/6/SE/7/8/X/XR"),
    ("045e", "07a5", "Microsoft Corp.", "Wireless Receiver 1461C"),
]

#: Network neighbours: real OUI prefixes with their IEEE registry organisation names.
NEIGHBOURS = [
    ("00:25:b5", "Cisco Systems, Inc"), ("00:18:0a", "Cisco Meraki"),
    ("f0:9f:c2", "Ubiquiti Inc"), ("74:83:c2", "Ubiquiti Inc"),
    ("00:01:e6", "Hewlett Packard"), ("f8:bc:12", "Dell Inc."), ("00:14:22", "Dell Inc."),
    ("00:1b:21", "Intel Corporate"), ("3c:22:fb", "Apple, Inc."), ("00:1c:b3", "Apple, Inc."),
    ("00:50:56", "VMware, Inc."), ("00:0c:29", "VMware, Inc."), ("00:11:32", "Synology Incorporated"),
    ("24:5e:be", "QNAP Systems, Inc."), ("00:04:f2", "Polycom"),
    ("80:5e:c0", "YEALINK(XIAMEN) NETWORK TECHNOLOGY CO.,LTD."),
    ("00:0b:82", "Grandstream Networks, Inc."), ("00:09:0f", "Fortinet, Inc."),
    ("00:90:7f", "WatchGuard Technologies, Inc."), ("00:17:88", "Philips Lighting BV"),
    ("f4:f2:6d", "TP-LINK TECHNOLOGIES CO.,LTD."), ("b8:27:eb", "Raspberry Pi Foundation"),
    ("dc:a6:32", "Raspberry Pi Trading Ltd"), ("3c:5a:b4", "Google, Inc."),
    ("00:0f:e2", "Hangzhou H3C Technologies Co., Limited"),
]

#: Listed hardware injected into ~1% of hosts: (bus, vendor_id, product_id, vendor, product).
LISTED_USB = [
    ("12d1", "1446", "Huawei Technologies Co., Ltd.", "E1552 (HSPA modem)"),
    ("12d1", "1001", "Huawei Technologies Co., Ltd.", "E620 USB Modem"),
    ("19d2", "2000", "ZTE WCDMA Technologies MSM", "MF627/MF628/MF628+/MF636+ HSDPA/HSUPA"),
]
LISTED_NEIGHBOURS = [
    ("44:19:b6", "Hangzhou Hikvision Digital Technology Co.,Ltd."),
    ("bc:ad:28", "Hangzhou Hikvision Digital Technology Co.,Ltd."),
    ("3c:ef:8c", "Zhejiang Dahua Technology Co., Ltd."),
    ("00:e0:fc", "HUAWEI TECHNOLOGIES CO.,LTD"),
    ("00:1e:73", "zte corporation"),
    ("9c:06:6e", "Hytera Communications Corporation Limited"),
]


def device_pool() -> list[dict[str, str | None]]:
    """Every fixed device row (PCI, USB built-in, USB peripherals, listed USB), pool order."""
    rows: list[dict[str, str | None]] = []
    for vid, pid, vname, pname in PCI:
        rows.append(dict(source="osquery:pci_devices", location="pci_devices", bus="pci",
                         vendor_id=vid, product_id=pid, vendor_name=vname, product_name=pname,
                         description=f"{vname} {pname}"))
    for group in (USB_BUILTIN, USB_PERIPHERALS, LISTED_USB):
        for vid, pid, vname, pname in group:
            rows.append(dict(source="osquery:usb_devices", location="usb_devices", bus="usb",
                             vendor_id=vid, product_id=pid, vendor_name=vname,
                             product_name=pname, description=f"{vname} {pname}"))
    return rows


def hardware_models(rng: random.Random, n: int = 40) -> list[list[int]]:
    """``n`` hardware models, each the pool indices of its built-in PCI and USB devices."""
    n_pci, n_usb = len(PCI), len(USB_BUILTIN)
    models = []
    for _ in range(n):
        pci = rng.sample(range(n_pci), rng.randint(12, 16))
        usb = [n_pci, n_pci + 1] * rng.randint(1, 2) + rng.sample(range(n_pci + 2, n_pci + n_usb),
                                                                   rng.randint(1, 3))
        models.append(sorted(pci) + usb)
    return models


def peripheral_range() -> tuple[int, int]:
    """Pool index range [start, stop) of removable USB peripherals."""
    start = len(PCI) + len(USB_BUILTIN)
    return start, start + len(USB_PERIPHERALS)


def listed_usb_range() -> tuple[int, int]:
    """Pool index range [start, stop) of listed USB devices."""
    start = peripheral_range()[1]
    return start, start + len(LISTED_USB)
