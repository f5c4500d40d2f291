#!/usr/bin/env python3
"""Tauri's bundle configuration for one packaging run (packaging/linux/package.sh), printed as
JSON for `tauri bundle --config`: the files each package carries besides the app, and the
packages they depend on, read off the release binaries just built.

    package-config.py ROOT OUT_DIR > tauri.package.json

Dependencies are what the binaries need, not a list kept by hand that drifts:
- .deb: dpkg-shlibdeps, as every Debian package does it (package names with minimum versions
  from the shlibs and symbols files of the libraries the binaries link);
- .rpm: each library's soname and each symbol version the binaries need, as rpm's own ELF
  dependency generator writes them (`libc.so.6(GLIBC_2.34)(64bit)`), so any RPM distribution
  resolves them to its own package names.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

# Sound comes through ALSA; on a desktop the microphone is PulseAudio's or PipeWire's, reached
# through ALSA's plugin for it. Without one, `kuager inputs` lists only the raw devices.
# Videos play through WebKit's GStreamer: phones' H.264/HEVC and AAC need gstreamer1.0-libav's
# decoders, and WebM's Opus sound gstreamer1.0-plugins-bad's Opus parser (WebKit offers Opus to
# Media Source Extensions only with one); without them the player says the format cannot be
# played here.
DEB_RECOMMENDS = ["libasound2-plugins | pipewire-alsa", "gstreamer1.0-libav",
                  "gstreamer1.0-plugins-bad"]
# The same on Fedora (rich dependencies need rpm 4.13; a name another distribution does not have
# is only a wish).
RPM_RECOMMENDS = ["(alsa-plugins-pulseaudio or pipewire-alsa)", "gstreamer1-plugin-libav",
                  "gstreamer1-plugins-bad-free"]


def deb_depends(binaries):
    with tempfile.TemporaryDirectory() as tmp:
        os.mkdir(os.path.join(tmp, "debian"))
        with open(os.path.join(tmp, "debian", "control"), "w") as f:
            f.write("Source: kuager\n\nPackage: kuager\nArchitecture: any\n")
        out = subprocess.run(["dpkg-shlibdeps", "-O", *(f"-e{b}" for b in binaries)],
                             cwd=tmp, check=True, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("shlibs:Depends="))
    return [d.strip() for d in line.split("=", 1)[1].split(",") if d.strip()]


def rpm_requires(binaries):
    needs = set()
    for b in binaries:
        dyn = subprocess.run(["readelf", "-d", "-W", b], check=True, capture_output=True,
                             text=True).stdout
        for so in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn):
            needs.add(f"{so}()(64bit)")
        ver = subprocess.run(["readelf", "-V", "-W", b], check=True, capture_output=True,
                             text=True).stdout
        lib = None
        in_needs = False
        for line in ver.splitlines():
            if line.startswith("Version needs section"):
                in_needs = True
                continue
            if line.startswith("Version") and not line.startswith("Version needs"):
                in_needs = False
            if not in_needs:
                continue
            m = re.search(r"File: (\S+)", line)
            if m:
                lib = m.group(1)
                continue
            m = re.search(r"Name: (\S+)", line)
            if m and lib and not m.group(1).startswith(lib):
                needs.add(f"{lib}({m.group(1)})(64bit)")
    return sorted(needs)


def main(root, out):
    rel = lambda p: os.path.relpath(p, os.path.join(root, "src-tauri"))
    binaries = [os.path.join(root, "target/release", b) for b in ("kuager-app", "kuager")]
    common = {
        "/usr/bin/kuager": rel(binaries[1]),
        "/usr/share/metainfo/org.kuager.desktop.metainfo.xml":
            rel(os.path.join(out, "org.kuager.desktop.metainfo.xml")),
        "/usr/share/bash-completion/completions/kuager": rel(os.path.join(out, "completions/kuager.bash")),
        "/usr/share/fish/vendor_completions.d/kuager.fish": rel(os.path.join(out, "completions/kuager.fish")),
    }
    for page in sorted(os.listdir(os.path.join(out, "man"))):
        common[f"/usr/share/man/man1/{page}"] = rel(os.path.join(out, "man", page))
    zsh = rel(os.path.join(out, "completions/_kuager"))
    deb_files = dict(common, **{"/usr/share/zsh/vendor-completions/_kuager": zsh})
    rpm_files = dict(common, **{"/usr/share/zsh/site-functions/_kuager": zsh})
    conf = {"bundle": {"linux": {
        "deb": {"files": deb_files, "depends": deb_depends(binaries),
                "recommends": DEB_RECOMMENDS},
        "rpm": {"files": rpm_files, "depends": rpm_requires(binaries),
                "recommends": RPM_RECOMMENDS},
    }}}
    json.dump(conf, sys.stdout, indent=2, sort_keys=True)
    print()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
