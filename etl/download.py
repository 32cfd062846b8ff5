"""`python -m etl download --millesime 2015 --dest DIR`: fetch the official INSEE files into the input
folder, with checksums, when the network allows.

Each file is downloaded to `<name>.part`, its SHA-256 computed and, when the catalogue pins one,
checked; only then is it renamed. `SHA256SUMS` in the folder lists every file fetched (the format of
`sha256sum -c`), so a rerun skips files already present and intact. The base URL can be replaced
(`--base-url`) to use a mirror — the tests serve fixtures on 127.0.0.1.

The addresses are those of insee.fr's « fichier » service at the time of writing; INSEE moves files
now and then: when one answers 404, its documentation page (printed) says where it went.
"""

from __future__ import annotations

import argparse
import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

INSEE_BASE = "https://www.insee.fr/fr/statistiques/fichier/"
USER_AGENT = "observatoire-territorial/0.1 (+https://www.insee.fr)"
TIMEOUT_S = 60


@dataclass(frozen=True)
class OfficialFile:
    name: str                 # file name written into the input folder (the official one)
    path: str                 # path under the base URL
    documentation: str
    sha256: str | None = None  # pinned checksum when known; otherwise recorded at first download


#: Official files per millésime (the ones the `insee` step reads).
CATALOGUE: dict[int, list[OfficialFile]] = {
    2015: [
        OfficialFile("base-cc-evol-struct-pop-2015.zip", "3564100/base-cc-evol-struct-pop-2015.zip",
                     "https://www.insee.fr/fr/statistiques/3564100"),
        OfficialFile("base-cc-emploi-pop-active-2015.zip", "3564146/base-cc-emploi-pop-active-2015.zip",
                     "https://www.insee.fr/fr/statistiques/3564146"),
        OfficialFile("filo-revenu-pauvrete-menage-2015.zip", "3560121/filo-revenu-pauvrete-menage-2015.zip",
                     "https://www.insee.fr/fr/statistiques/3560121"),
        OfficialFile("Intercommunalite-Metropole_au_01-01-2017.zip",
                     "2510634/Intercommunalite_Metropole_au_01-01-2017.zip",
                     "https://www.insee.fr/fr/information/2510634"),
        OfficialFile("v_mvt_commune_2023.csv", "6800675/v_mvt_commune_2023.csv",
                     "https://www.insee.fr/fr/information/6800675"),
    ],
    2019: [
        OfficialFile("base-cc-evol-struct-pop-2019_csv.zip", "6456153/base-cc-evol-struct-pop-2019_csv.zip",
                     "https://www.insee.fr/fr/statistiques/6456153"),
        OfficialFile("base-cc-emploi-pop-active-2019_csv.zip", "6456157/base-cc-emploi-pop-active-2019_csv.zip",
                     "https://www.insee.fr/fr/statistiques/6456157"),
        OfficialFile("v_mvt_commune_2023.csv", "6800675/v_mvt_commune_2023.csv",
                     "https://www.insee.fr/fr/information/6800675"),
    ],
}

SUMS = "SHA256SUMS"


class DownloadFailed(Exception):
    pass


def read_sums(dest: Path) -> dict[str, str]:
    path = dest / SUMS
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out[name.lstrip("*").strip()] = digest
    return out


def write_sums(dest: Path, sums: dict[str, str]) -> None:
    (dest / SUMS).write_text("".join(f"{d}  {n}\n" for n, d in sorted(sums.items())), encoding="utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(file: OfficialFile, dest: Path, base_url: str = INSEE_BASE, sums: dict[str, str] | None = None,
          log=print) -> str:
    """Download one file into `dest` (atomic rename after the checksum check); returns its SHA-256."""
    sums = {} if sums is None else sums
    target = dest / file.name
    if target.exists() and sums.get(file.name) == _sha256(target) and (file.sha256 in (None, sums[file.name])):
        log(f"déjà présent et intact : {file.name}")
        return sums[file.name]
    url = base_url.rstrip("/") + "/" + file.path
    part = target.with_name(target.name + ".part")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response, open(part, "wb") as out:
            while block := response.read(1 << 20):
                out.write(block)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        part.unlink(missing_ok=True)
        raise DownloadFailed(f"{file.name} : téléchargement impossible depuis {url} ({exc}). "
                             f"Réseau indisponible ou fichier déplacé : voir {file.documentation} et déposer le "
                             f"fichier à la main dans {dest}.") from None
    digest = _sha256(part)
    if file.sha256 and digest != file.sha256:
        part.unlink(missing_ok=True)
        raise DownloadFailed(f"{file.name} : somme de contrôle inattendue {digest} (attendu {file.sha256}) ; "
                             "fichier écarté.")
    part.replace(target)
    log(f"téléchargé : {file.name} ({target.stat().st_size:,} octets, sha256 {digest[:12]}…)".replace(",", "\u202f"))
    return digest


def download(millesime: int, dest: Path, base_url: str = INSEE_BASE, only: list[str] | None = None,
             catalogue: dict[int, list[OfficialFile]] | None = None, log=print) -> tuple[list[str], list[str]]:
    """Fetch every official file of a millésime; returns (fetched names, error messages)."""
    catalogue = CATALOGUE if catalogue is None else catalogue
    if millesime not in catalogue:
        raise DownloadFailed(f"millésime {millesime} inconnu (disponibles : {', '.join(map(str, sorted(catalogue)))})")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    sums = read_sums(dest)
    fetched, errors = [], []
    for file in catalogue[millesime]:
        if only and not any(o.lower() in file.name.lower() for o in only):
            continue
        try:
            sums[file.name] = fetch(file, dest, base_url, sums, log)
            fetched.append(file.name)
        except DownloadFailed as exc:
            errors.append(str(exc))
        write_sums(dest, sums)  # after each file: an interrupted run keeps what it verified
    return fetched, errors


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--millesime", type=int, required=True, help="millésime des données (ex. 2015)")
    p.add_argument("--dest", type=Path, default=Path("entrees"), help="dossier d'entrée (défaut : ./entrees)")
    p.add_argument("--base-url", default=INSEE_BASE, help="adresse de base (miroir) ; défaut : insee.fr")
    p.add_argument("--only", default=None, help="ne télécharge que les fichiers dont le nom contient ces mots "
                                                "(séparés par des virgules)")


def main(args: argparse.Namespace, log=print) -> int:
    only = [o.strip() for o in args.only.split(",")] if args.only else None
    try:
        fetched, errors = download(args.millesime, args.dest, args.base_url, only, log=log)
    except DownloadFailed as exc:
        log(f"échec : {exc}")
        return 1
    for message in errors:
        log(f"échec : {message}")
    log(f"{len(fetched)} fichier(s) dans {args.dest} ; sommes de contrôle dans {args.dest / SUMS}. "
        f"Ensuite : python -m etl build --input {args.dest}")
    return 0 if not errors else 4
