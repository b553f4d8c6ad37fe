"""``manage.py import_data contacts leads.csv --user marc``: the same import as the page
(upload, automatic column matching, check, batches), with a progress bar on stderr."""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from leadflow.core.errors import DomainError
from leadflow.imports import actions
from leadflow.imports.fields import all_kinds
from leadflow.imports.models import ImportJob, ImportStatus


class Command(BaseCommand):
    help = "Import companies, contacts, inquiries, qualified leads… from CSV or XLSX."

    def add_arguments(self, parser):
        parser.add_argument("kind", nargs="?", help="what the file holds")
        parser.add_argument("file", nargs="?", help="a .csv or .xlsx file")
        parser.add_argument("--user", help="who imports (username): audit and rights")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="map a column (repeat); FIELD empty to ignore the column",
        )
        parser.add_argument("--date-order", choices=["dmy", "mdy", "iso"])
        parser.add_argument("--decimal", choices=[",", "."])
        parser.add_argument("--encoding", help="e.g. utf-8, cp1252 (default: detected)")
        parser.add_argument("--delimiter", help="e.g. ';' (default: detected)")
        parser.add_argument(
            "--value",
            action="append",
            default=[],
            metavar="LOOKUP:RAW=TARGET",
            help="map an unknown value, e.g. user:Jan P.=12 or stage:Offerte=proposal; "
            "TARGET +new creates it, empty leaves the cell empty",
        )
        parser.add_argument("--update-existing", action="store_true")
        parser.add_argument("--skip-invalid", action="store_true")
        parser.add_argument("--check-only", action="store_true", help="dry run")
        parser.add_argument(
            "--resume", type=int, metavar="JOB", help="resume an import"
        )
        parser.add_argument("--list-kinds", action="store_true")

    def handle(self, *args, **opts):
        if opts["list_kinds"]:
            for kind in all_kinds():
                fields = ", ".join(f.key for f in kind.fields)
                self.stdout.write(f"{kind.key}: {fields}")
            return
        user = self._user(opts["user"])
        try:
            if opts["resume"]:
                job = ImportJob.objects.get(pk=opts["resume"])
                actions.resume(
                    job,
                    actor=user,
                    skip_invalid=opts["skip_invalid"],
                    background=False,
                    progress=self._progress,
                )
                return self._finish(ImportJob.objects.get(pk=job.pk))
            if not opts["kind"] or not opts["file"]:
                raise CommandError("Give a kind and a file (see --list-kinds).")
            job = self._upload(user, opts)
            job = actions.check_job(job, actor=user)
            self._report(job)
            if opts["check_only"]:
                return
            ok, why = actions.can_start(job)
            if not ok:
                raise CommandError(why)
            job = actions.start(
                job, actor=user, background=False, progress=self._progress
            )
            self._finish(job)
        except ImportJob.DoesNotExist as exc:
            raise CommandError("No such import.") from exc
        except DomainError as exc:
            raise CommandError(str(exc)) from exc

    def _user(self, username):
        users = get_user_model().objects
        if username:
            try:
                return users.get(username=username)
            except users.model.DoesNotExist as exc:
                raise CommandError(f"No user {username!r}.") from exc
        user = users.filter(is_superuser=True, is_active=True).order_by("id").first()
        if user is None:
            raise CommandError("Give --user (there is no superuser).")
        return user

    def _upload(self, user, opts) -> ImportJob:
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        with path.open("rb") as handle:
            job = actions.upload(
                actor=user, kind_key=opts["kind"], uploaded=File(handle, name=path.name)
            )
        mapping = dict(job.mapping)
        for item in opts["map"]:
            header, _sep, field = item.partition("=")
            mapping[header] = field
        values: dict = {}
        for item in opts["value"]:
            lookup, _sep, rest = item.partition(":")
            raw, _sep, target = rest.partition("=")
            values.setdefault(lookup, {})[raw] = target
        options = {
            "date_order": opts["date_order"],
            "decimal": opts["decimal"],
            "update_existing": opts["update_existing"],
            "skip_invalid": opts["skip_invalid"],
            "values": values,
        }
        job = actions.set_mapping(
            job,
            actor=user,
            mapping=mapping,
            options=options,
            encoding=opts["encoding"],
            delimiter=opts["delimiter"],
        )
        self.stdout.write(
            f"Import {job.pk}: {job.filename} ({job.file_format}, "
            f"{job.encoding or '-'}, delimiter {job.delimiter!r})"
        )
        for header in job.headers:
            self.stdout.write(
                f"  {header!r} -> {job.mapping.get(header) or '(ignored)'}"
            )
        return job

    def _report(self, job: ImportJob) -> None:
        r = job.report
        self.stdout.write(
            f"Checked {r.get('rows', 0)} rows: {r.get('error_lines', 0)} with errors, "
            f"{r.get('warnings', 0)} warnings, {r.get('existing', 0)} already known, "
            f"{r.get('duplicates_in_file', 0)} repeated in the file."
        )
        for message in r.get("blocking", []):
            self.stderr.write(f"  ! {message}")
        for lookup, rows in (r.get("unknown") or {}).items():
            raws = ", ".join(f"{raw!r} ({n}x)" for raw, n in rows[:10])
            self.stderr.write(f"  unknown {lookup}: {raws}  (map with --value)")
        for issue in job.issues.order_by("line")[:20]:
            self.stderr.write(f"  line {issue.line} {issue.column}: {issue.message}")

    def _progress(self, job: ImportJob) -> None:
        total = job.total_rows or 1
        done = round(40 * job.rows_done / total)
        sys.stderr.write(
            f"\r[{'#' * done}{'.' * (40 - done)}] {job.rows_done}/{job.total_rows}"
        )
        sys.stderr.flush()

    def _finish(self, job: ImportJob) -> None:
        sys.stderr.write("\n")
        counts = actions.counts(job)
        self.stdout.write(f"Import {job.pk}: {job.get_status_display()}: {counts}")
        if job.status != ImportStatus.DONE:
            raise CommandError(job.error or job.get_status_display())
