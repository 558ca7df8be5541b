"""Host facts: os-release, machine id, hostname, host id."""

from __future__ import annotations

from pathlib import Path

from kitvet.sources import hostfacts

OS_RELEASE = '''PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
# a comment
HOME_URL="https://www.debian.org/"
QUOTED='single quoted'
ESCAPED="a \\"quoted\\" word"
'''


def _root(tmp_path: Path, **files: str) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_os_release_parsing() -> None:
    rel = hostfacts.parse_os_release(OS_RELEASE)
    assert rel["ID"] == "debian" and rel["NAME"] == "Debian GNU/Linux"
    assert rel["VERSION_ID"] == "12"
    assert rel["QUOTED"] == "single quoted"
    assert rel["ESCAPED"] == 'a "quoted" word'


def test_facts_of_a_mounted_root(tmp_path: Path) -> None:
    root = _root(tmp_path, **{"etc/os-release": OS_RELEASE,
                              "etc/machine-id": "0123456789abcdef0123456789abcdef\n",
                              "etc/hostname": "web-01\n"})
    facts = hostfacts.host_facts(root)
    assert facts.hostname == "web-01"
    assert facts.os_id == "debian" and facts.os_version == "12"
    assert facts.host_id == "0123456789abcdef0123456789abcdef"


def test_usr_lib_os_release_and_hostname_hash(tmp_path: Path) -> None:
    root = _root(tmp_path, **{"usr/lib/os-release": 'ID=alpine\nNAME="Alpine Linux"\n'
                                                    "VERSION_ID=3.19.1\n",
                              "etc/machine-id": "uninitialized\n",
                              "etc/hostname": "Edge-7\n"})
    facts = hostfacts.host_facts(root)
    assert facts.os_id == "alpine" and facts.machine_id is None
    # A stable hash of the hostname, the same whatever its case.
    assert facts.host_id == hostfacts.host_id_from_name("edge-7")
    assert len(facts.host_id) == 32
    assert facts.host_id != hostfacts.host_id_from_name("edge-8")


def test_nothing_known_is_none_not_an_error(tmp_path: Path) -> None:
    facts = hostfacts.host_facts(tmp_path)
    assert (facts.hostname, facts.os_id, facts.machine_id) == (None, None, None)
    assert facts.host_id == hostfacts.host_id_from_name("unknown")


def test_huge_or_binary_fact_files_are_bounded(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "etc").mkdir()
    (root / "etc/os-release").write_bytes(b"ID=evil\n" + b"\xff" * (1 << 20))
    (root / "etc/hostname").write_bytes(b"h" * 5000)
    facts = hostfacts.host_facts(root)
    assert facts.os_id == "evil"
    assert len(facts.hostname or "") == 255


def test_symlinks_of_an_image_stay_inside_the_image(tmp_path: Path) -> None:
    root = _root(tmp_path / "img", **{"usr/lib/os-release": "ID=imageos\n",
                                      "etc/hostname": "inside\n"})
    (root / "etc/os-release").symlink_to("/usr/lib/os-release")  # absolute, as images have
    (root / "etc/machine-id").symlink_to("../../../../../../../etc/machine-id")  # climbs out
    facts = hostfacts.host_facts(root)
    assert facts.os_id == "imageos"  # the image's file, not this machine's /usr/lib/os-release
    assert facts.machine_id is None  # ".." stops at the image root: no such file there
    assert hostfacts.under(root, "/etc/os-release") == root / "usr/lib/os-release"


def test_symlink_loops_and_special_files_do_not_hang(tmp_path: Path) -> None:
    import os

    root = tmp_path / "img"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").symlink_to("/etc/os-release")  # points at itself
    os.mkfifo(root / "etc/hostname")  # reading a FIFO would block forever
    facts = hostfacts.host_facts(root)
    assert facts.os_id is None and facts.hostname is None


def test_os_release_values_are_bounded_and_cleaned(tmp_path: Path) -> None:
    root = _root(tmp_path, **{"etc/os-release": 'ID=x\nNAME="' + "N" * 5000 + '\x1b"\n'})
    facts = hostfacts.host_facts(root)
    assert facts.os_name == "N" * 256
