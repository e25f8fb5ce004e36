"""Checks a Lambda deployment zip for a custom runtime (provided.al2023): it holds `bootstrap`,
an ELF executable for the expected architecture, with its executable bits set (Lambda runs
the file as it is unpacked; without +x the function fails its init with a permission error).

    python scripts/lambda_zip.py ZIP ARCH     # ARCH: arm64 or x86_64
"""

import stat
import sys
import zipfile

# ELF e_machine values.
MACHINES = {"arm64": 183, "x86_64": 62}


def problems(path, arch):
    """What is wrong with the zip at `path` for `arch`; empty when it is deployable."""
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        return [f"{path}: not a zip: {e}"]
    with z:
        try:
            info = z.getinfo("bootstrap")
        except KeyError:
            return [f"{path}: no `bootstrap` at the top level (has: {', '.join(z.namelist()[:5])})"]
        found = []
        mode = info.external_attr >> 16
        if not mode & stat.S_IXUSR:
            found.append(f"{path}: bootstrap is not executable (mode {oct(mode)})")
        head = z.open(info).read(20)
        if head[:4] != b"\x7fELF":
            found.append(f"{path}: bootstrap is not an ELF executable")
        else:
            machine = int.from_bytes(head[18:20], "little")
            if machine != MACHINES[arch]:
                found.append(f"{path}: bootstrap is built for ELF machine {machine}, not {arch}")
        return found


def main(argv):
    if len(argv) != 2 or argv[1] not in MACHINES:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    found = problems(*argv)
    for p in found:
        print(p, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
