"""`python -m etl download --millesime 2015|2019|2020…2023|caf|dernier --dest DIR`: fetch the official
INSEE and data.caf.fr files into the input folder, with checksums, when the network allows.

Each file is downloaded to `<name>.part`, its SHA-256 computed and, when the catalogue pins one,
checked; only then is it renamed. `SHA256SUMS` in the folder lists every file fetched (the format of
`sha256sum -c`), so a rerun skips files already present and intact. The base URL can be replaced
(`--base-url`) to use a mirror — the tests serve fixtures on 127.0.0.1.

The addresses are those of insee.fr's « fichier » service at the time of writing; INSEE moves files
now and then: when one answers 404, its documentation page (printed) says where it went.
"""

from __future__ import annotations

import argparse
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from etl.common import sha256_of

INSEE_BASE = "https://www.insee.fr/fr/statistiques/fichier/"
#: data.caf.fr is an Opendatasoft portal: a dataset's CSV export is
#: `<portal>/api/explore/v2.1/catalog/datasets/<dataset>/exports/csv` (field names as header; `;`).
CAF_BASE = "https://data.caf.fr/api/explore/v2.1/catalog/datasets/"
BASES = {"insee": INSEE_BASE, "caf": CAF_BASE}
CAF_QUERY = "?delimiter=%3B&lang=fr&timezone=Europe%2FParis"
USER_AGENT = "observatoire-territorial/0.1 (+https://www.insee.fr)"
TIMEOUT_S = 60


@dataclass(frozen=True)
class OfficialFile:
    name: str                 # file name written into the input folder (the official one)
    path: str                 # path under the base URL
    documentation: str
    sha256: str | None = None  # pinned checksum when known; otherwise recorded at first download
    base: str = "insee"        # key of `BASES` (replaced by --base-url for a mirror)
    query: str = ""            # query string of the request (Opendatasoft export options)

    def url(self, base_url: str | None = None) -> str:
        return (base_url or BASES[self.base]).rstrip("/") + "/" + self.path + self.query


def _caf(dataset: str) -> OfficialFile:
    """A data.caf.fr dataset exported as CSV through the Opendatasoft API, saved as `<dataset>.csv`."""
    return OfficialFile(f"{dataset}.csv", f"{dataset}/exports/csv", f"https://data.caf.fr/explore/dataset/{dataset}/",
                        base="caf", query=CAF_QUERY)


#: Today's releases (see ../shared/facts/official_formats_current.md). Paths follow insee.fr's
#: « fichier » service; when INSEE moves a file the error names the page to fetch it from by hand.
RP_2022 = OfficialFile("base-cc-evol-struct-pop-2022_csv.zip", "8581696/base-cc-evol-struct-pop-2022_csv.zip",
                       "https://www.insee.fr/fr/statistiques/8581696")
FILOSOFI_2021_GEO2025 = OfficialFile("base-cc-filosofi-2021-geo2025_csv.zip",
                                     "7756729/base-cc-filosofi-2021-geo2025_csv.zip",
                                     "https://www.insee.fr/fr/statistiques/7756729")
FILOSOFI_2023 = OfficialFile("FILOSOFI_CC_csv.zip", "8984752/FILOSOFI_CC_csv.zip",
                             "https://www.insee.fr/fr/statistiques/8984752")
COG_2025 = [OfficialFile("v_commune_2025.csv", "8377162/v_commune_2025.csv",
                         "https://www.insee.fr/fr/information/8377162"),
            OfficialFile("v_mvt_commune_2025.csv", "8377162/v_mvt_commune_2025.csv",
                         "https://www.insee.fr/fr/information/8377162")]
CAF_DATASETS = [_caf("txcouv_pe_com"), _caf("txcouv_pe_epci"), _caf("txcouv_pe_dep"), _caf("s_ben_com_f")]


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
    2020: [OfficialFile("base-cc-evol-struct-pop-2020_csv.zip", "7632446/base-cc-evol-struct-pop-2020_csv.zip",
                        "https://www.insee.fr/fr/statistiques/7632446"), *COG_2025],
    2021: [OfficialFile("base-cc-evol-struct-pop-2021_csv.zip", "8201904/base-cc-evol-struct-pop-2021_csv.zip",
                        "https://www.insee.fr/fr/statistiques/8201904"), FILOSOFI_2021_GEO2025, *COG_2025],
    2022: [RP_2022, *COG_2025],
    2023: [FILOSOFI_2023, *COG_2025],
    "caf": CAF_DATASETS,
    "dernier": [RP_2022, FILOSOFI_2021_GEO2025, FILOSOFI_2023, *COG_2025, *CAF_DATASETS],
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


_sha256 = sha256_of  # etl/common.py


def fetch(file: OfficialFile, dest: Path, base_url: str | None = None, sums: dict[str, str] | None = None,
          log=print) -> str:
    """Download one file into `dest` (atomic rename after the checksum check); returns its SHA-256."""
    sums = {} if sums is None else sums
    target = dest / file.name
    if target.exists() and sums.get(file.name) == _sha256(target) and (file.sha256 in (None, sums[file.name])):
        log(f"déjà présent et intact : {file.name}")
        return sums[file.name]
    url = file.url(base_url)
    part = target.with_name(target.name + ".part")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response, open(part, "wb") as out:
            while block := response.read(1 << 20):
                out.write(block)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        part.unlink(missing_ok=True)
        raise DownloadFailed(f"{file.name} : téléchargement impossible depuis {url} ({exc}). "
                             f"Réseau indisponible ou fichier déplacé : le télécharger depuis {file.documentation} "
                             f"(export CSV « ; » pour data.caf.fr) et déposer le fichier à la main dans {dest} "
                             f"sous le nom {file.name}.") from None
    digest = _sha256(part)
    if file.sha256 and digest != file.sha256:
        part.unlink(missing_ok=True)
        raise DownloadFailed(f"{file.name} : somme de contrôle inattendue {digest} (attendu {file.sha256}) ; "
                             "fichier écarté.")
    part.replace(target)
    log(f"téléchargé : {file.name} ({target.stat().st_size:,} octets, sha256 {digest[:12]}…)".replace(",", "\u202f"))
    return digest


def download(millesime: int | str, dest: Path, base_url: str | None = None, only: list[str] | None = None,
             catalogue: dict[int, list[OfficialFile]] | None = None, log=print) -> tuple[list[str], list[str]]:
    """Fetch every official file of a millésime; returns (fetched names, error messages)."""
    catalogue = CATALOGUE if catalogue is None else catalogue
    millesime = int(millesime) if str(millesime).isdigit() else millesime
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
    p.add_argument("--millesime", required=True, choices=[str(k) for k in CATALOGUE],
                   help="millésime (2015, 2019, 2020–2023), « caf » (jeux data.caf.fr) ou « dernier » (RP 2022, "
                        "Filosofi 2021 géo. 2025 et 2023, COG 2025, data.caf.fr)")
    p.add_argument("--dest", type=Path, default=Path("entrees"), help="dossier d'entrée (défaut : ./entrees)")
    p.add_argument("--base-url", default=None, help="adresse de base d'un miroir (remplace insee.fr et data.caf.fr)")
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
