#!/usr/bin/env python3
"""Writes Kuager's AppStream metainfo: what software centres show, with the release notes taken
from CHANGELOG.md so they are written once.

    metainfo.py VERSION CHANGELOG.md OUT.xml

Each `## X.Y.Z — YYYY-MM-DD` (or `— unreleased`) section of the changelog becomes a release; its
first paragraph, the one written for people who install Kuager, is the release's description.
An unreleased version is dated by SOURCE_DATE_EPOCH (the last commit's time, set by
packaging/package.sh), so the same tree always gives the same file. The version being packaged
must be the changelog's newest, or the packages would describe another version.

Screenshots and the home page are addresses where the organisation publishes them:
KUAGER_PUBLIC_URL (by default an address under the reserved `.invalid` domain, which says
plainly that none is set; see packaging/README.md).
"""
import datetime
import os
import re
import sys
from xml.sax.saxutils import escape

APP_ID = "org.kuager.desktop"
DESKTOP_ID = "Kuager.desktop"  # Tauri's bundler names the desktop entry after the product
PUBLIC = os.environ.get("KUAGER_PUBLIC_URL", "https://kuager.invalid").rstrip("/")

SUMMARY = {
    "en": "Encrypted vault for testimonies",
    "kk": "Куәліктерге арналған шифрланған қойма",
    "ru": "Зашифрованное хранилище свидетельств",
}
DESCRIPTION = {
    "en": [
        "Kuager keeps witness testimonies, the people in them, cases and citizenship-renunciation "
        "attempts in an encrypted vault on this computer. It never uses the network: records "
        "leave only as age-encrypted, signed bundles to the organisation's coordinators, who "
        "import them into their own vault or open them with any standard age tool.",
        "Interviews are recorded straight into the vault and transcribed beside the player. "
        "Names are found across scripts (Сенбай, Senbay, Senbai). The app speaks Kazakh, "
        "Russian and English.",
    ],
    "kk": [
        "Kuager куәгерлердің айғақтарын, оларда аталған адамдарды, істерді және ҚХР азаматтығынан "
        "шығу әрекеттерін осы компьютердегі шифрланған қоймада сақтайды. Ол желіні ешқашан "
        "пайдаланбайды: жазбалар ұйым үйлестірушілеріне тек age арқылы шифрланған, қол қойылған "
        "пакеттер түрінде жіберіледі.",
        "Сұхбаттар тікелей қоймаға жазылып, ойнатқыштың жанында мәтінге түсіріледі. Есімдер "
        "әр түрлі жазуда табылады (Сенбай, Senbay, Senbai). Қолданба қазақ, орыс және ағылшын "
        "тілдерінде.",
    ],
    "ru": [
        "Kuager хранит свидетельские показания, упомянутых в них людей, дела и попытки выхода "
        "из гражданства КНР в зашифрованном хранилище на этом компьютере. Он никогда не "
        "пользуется сетью: записи покидают компьютер только в виде подписанных пакетов, "
        "зашифрованных age, для координаторов организации.",
        "Интервью записываются прямо в хранилище и расшифровываются рядом с проигрывателем. "
        "Имена находятся в любой письменности (Сенбай, Senbay, Senbai). Приложение говорит "
        "на казахском, русском и английском.",
    ],
}
SCREENSHOTS = [
    ("first-run", {"en": "First run: a vault and its passphrase",
                   "kk": "Алғашқы іске қосу", "ru": "Первый запуск"}),
    ("testimony", {"en": "A testimony, consent first",
                   "kk": "Куәлік, алдымен келісім", "ru": "Свидетельство, сначала согласие"}),
    ("recording", {"en": "An interview recorded into the vault",
                   "kk": "Қоймаға жазылып жатқан сұхбат", "ru": "Интервью, записываемое в хранилище"}),
    ("search", {"en": "Names found across scripts",
                "kk": "Әр түрлі жазудағы есімдер", "ru": "Поиск имён в любой письменности"}),
]

HEADING = re.compile(r"^## (\d+\.\d+\.\d+) — (\d{4}-\d{2}-\d{2}|unreleased)\s*$")


def releases(changelog):
    """(version, date or None, first paragraph) of each section, newest first."""
    out, cur, para = [], None, []
    for line in changelog.splitlines():
        m = HEADING.match(line)
        if m:
            if cur:
                out.append((*cur, " ".join(para)))
            cur, para = (m.group(1), None if m.group(2) == "unreleased" else m.group(2)), []
            continue
        if cur is None or line.startswith("#"):
            if line.startswith("### ") and cur and para:
                out.append((*cur, " ".join(para)))
                cur = None
            continue
        if line.strip():
            para.append(line.strip())
        elif para:
            out.append((*cur, " ".join(para)))
            cur = None
    if cur and para:
        out.append((*cur, " ".join(para)))
    return out


def plain(md):
    """Markdown's inline marks removed: AppStream descriptions are plain paragraphs."""
    md = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", md)
    return escape(md.replace("`", "").replace("*", ""))


def main(version, changelog_path, out_path):
    rels = releases(open(changelog_path, encoding="utf-8").read())
    if not rels:
        sys.exit(f"metainfo: no '## X.Y.Z — date' section in {changelog_path}")
    if rels[0][0] != version:
        sys.exit(f"metainfo: the newest section of {changelog_path} is {rels[0][0]}, "
                 f"but the version packaged is {version}: add a section for {version}")
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or None
    x = ['<?xml version="1.0" encoding="UTF-8"?>',
         f"<!-- Written by packaging/linux/metainfo.py from CHANGELOG.md; do not edit. -->",
         '<component type="desktop-application">',
         f"  <id>{APP_ID}</id>",
         "  <metadata_license>CC0-1.0</metadata_license>",
         "  <project_license>AGPL-3.0-or-later</project_license>",
         "  <name>Kuager</name>"]
    for lang, s in SUMMARY.items():
        attr = "" if lang == "en" else f' xml:lang="{lang}"'
        x.append(f"  <summary{attr}>{escape(s)}</summary>")
    x.append("  <description>")
    for lang, paras in DESCRIPTION.items():
        attr = "" if lang == "en" else f' xml:lang="{lang}"'
        x += [f"    <p{attr}>{escape(p)}</p>" for p in paras]
    x.append("  </description>")
    x += [f'  <launchable type="desktop-id">{DESKTOP_ID}</launchable>',
          f'  <url type="homepage">{PUBLIC}/</url>',
          '  <developer id="org.kuager">', "    <name>The Kuager developers</name>",
          "  </developer>",
          "  <categories>", "    <category>Office</category>", "    <category>Utility</category>",
          "  </categories>",
          '  <content_rating type="oars-1.1"/>',
          "  <provides>", "    <binary>kuager</binary>", "    <binary>kuager-app</binary>",
          "  </provides>",
          "  <screenshots>"]
    for i, (name, captions) in enumerate(SCREENSHOTS):
        kind = ' type="default"' if i == 0 else ""
        x.append(f"    <screenshot{kind}>")
        for lang, c in captions.items():
            attr = "" if lang == "en" else f' xml:lang="{lang}"'
            x.append(f"      <caption{attr}>{escape(c)}</caption>")
        x.append(f"      <image>{PUBLIC}/screenshots/{name}-en.png</image>")
        x.append("    </screenshot>")
    x += ["  </screenshots>", "  <releases>"]
    for ver, date, text in rels:
        if date is None:
            if epoch is None:
                sys.exit("metainfo: an unreleased version needs SOURCE_DATE_EPOCH for its date")
            date = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).date().isoformat()
            kind = ' type="development"'
        else:
            kind = ""
        x += [f'    <release version="{ver}" date="{date}"{kind}>', "      <description>",
              f"        <p>{plain(text)}</p>", "      </description>", "    </release>"]
    x += ["  </releases>", "</component>", ""]
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(x))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
