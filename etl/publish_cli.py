"""`python -m etl publish FILE…`, `history`, `rollback ID`, `admin add-user NAME` (etl/publish.py)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from common.config import default_db_path
from common.store import PublicationRunning, Store

COMMANDS = ("publish", "history", "rollback", "admin")


def add_arguments(sub) -> None:
    p = sub.add_parser("publish", help="publie des fichiers (journal, version conservée, base servie basculée)")
    p.add_argument("files", nargs="*", type=Path, help="fichiers à publier (vérifiés comme à l'envoi)")
    p.add_argument("--withdraw", action="append", default=[], metavar="NOM", help="retire un fichier publié")
    p.add_argument("--stored", action="append", default=[], metavar="SHA256:NOM",
                   help="(page « Gérer les données ») fichier déjà déposé dans le magasin d'entrées")
    p.add_argument("--who", default=None, help="auteur journalisé (défaut : l'utilisateur système)")
    p.add_argument("--db", type=Path, default=None, help="base servie (défaut : $OBSERVATOIRE_DB)")
    h = sub.add_parser("history", help="journal des publications")
    h.add_argument("--csv", type=Path, default=None, help="écrit le journal en CSV")
    r = sub.add_parser("rollback", help="sert de nouveau la base d'une publication conservée")
    r.add_argument("id", type=int)
    r.add_argument("--who", default=None)
    r.add_argument("--db", type=Path, default=None)
    a = sub.add_parser("admin", help="comptes locaux des gestionnaires de données")
    asub = a.add_subparsers(dest="admin_command", required=True)
    add = asub.add_parser("add-user", help="crée ou réinitialise un compte (mot de passe demandé)")
    add.add_argument("user")
    add.add_argument("--password-stdin", action="store_true", help="lit le mot de passe sur l'entrée standard")
    rm = asub.add_parser("remove-user")
    rm.add_argument("user")
    asub.add_parser("list-users")


def main(args, console) -> int:
    store = Store()
    if args.command == "admin":
        from etl import accounts
        if args.admin_command == "list-users":
            for user in accounts.users():
                console.print(user)
            return 0
        if args.admin_command == "remove-user":
            return 0 if accounts.remove_user(args.user) else 1
        if args.password_stdin:
            import sys
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Mot de passe : ")
            if getpass.getpass("Confirmer : ") != password:
                console.print("[red]les deux saisies diffèrent[/red]")
                return 1
        try:
            accounts.add_user(args.user, password)
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            return 1
        console.print(f"compte « {args.user} » enregistré dans {accounts.accounts_path()}")
        return 0
    if args.command == "history":
        return _history(store, args, console)
    from etl import publish
    db = Path(args.db or default_db_path())
    who = args.who or os.environ.get("USER") or getpass.getuser()
    try:
        if args.command == "rollback":
            row = publish.rollback(db, args.id, who, store)
            console.print(f"retour à la version {args.id} : journal n° {row}")
            return 0
        files = [(p.name, p.read_bytes()) for p in args.files]
        for item in args.stored:
            sha, _, name = item.partition(":")
            files.append((name, store.read(sha)))
        row = publish.publish(db, files, args.withdraw, who, store, echo=console.print)
    except PublicationRunning as exc:
        console.print(f"[red]Refusé :[/red] {exc}")
        return 4
    except Exception as exc:  # noqa: BLE001 - journalled by publish(); the message is for the user
        console.print(f"[red]Échec, base servie inchangée :[/red] {exc}")
        return 2
    entry = store.row(row)
    console.print(f"publication n° {row} réussie ({entry['mode']}, {entry['duration_s']:.1f} s)")
    for figure in entry.get("key_figures") or []:
        console.print(f"  {figure['texte']}")
    return 0


def managed_refusal(db: Path) -> str | None:
    """Why `python -m etl build` must not write `db` (a link to a kept version), or None."""
    from common.store import served_version
    version = served_version(Store(), db)
    if version is None:
        return None
    return (f"{db} est la base publiée (version {version}, gérée par « Gérer les données ») : la reconstruire "
            "ici écraserait une version conservée. Publier avec `python -m etl publish FICHIER…`, ou construire "
            "une autre base avec `--db`.")


def _history(store: Store, args, console) -> int:
    from query import journal
    frame = journal.publications(store)
    if args.csv:
        args.csv.write_bytes(journal.journal_csv(frame))
        console.print(f"journal écrit : {args.csv}")
        return 0
    for r in frame.itertuples():
        files = " ".join(x for x in (r.fichiers_ajoutes and f"+{r.fichiers_ajoutes}",
                                     r.fichiers_remplaces and f"~{r.fichiers_remplaces}",
                                     r.fichiers_retires and f"-{r.fichiers_retires}") if x)
        kept = "conservée" if r.version_conservee else ""
        console.print(f"{r.id:>4}  {r.debut}  {r.qui:<14} {r.action:<11} {r.statut:<11} {r.mode:<12} "
                      f"v{r.version if r.version == r.version and r.version is not None else '-'} {kept}  {files}")
        if r.chiffres_cles:
            console.print(f"        {r.chiffres_cles}")
        if r.statut != "réussie" and r.rapport:
            console.print(f"        [red]{r.rapport[:500]}[/red]")
    return 0

