# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Off-site copies on a real directory storage (fs_storage, protocol ``file``):
copy, age encryption, failures and retries, retention tiers, verification.
SFTP against a real OpenSSH server is in tests/test_offsite_sftp.py."""

import hashlib
import io
import json
import shutil
import subprocess
import tempfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pyrage

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user

from ..orm.offsite import OffsiteError, keep_by_tiers
from .common import BackupCommon


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class OffsiteCommon(BackupCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = Path(tempfile.mkdtemp(prefix="crm_offsite_"))
        cls.addClassCleanup(shutil.rmtree, cls.root, True)
        cls.storage = (
            cls.env["fs.storage"]
            .sudo()
            .create(
                {
                    "name": "Off-site test directory",
                    "code": "crm_offsite_test",
                    "protocol": "file",
                    "directory_path": str(cls.root),
                }
            )
        )
        cls.admin = new_test_user(
            cls.env,
            login="offsite_admin",
            groups="base.group_user,crm_data_backup.group_crm_backup_admin",
        )
        cls.salesman = new_test_user(
            cls.env, login="offsite_salesman", groups="sales_team.group_sale_salesman"
        )

    def setUp(self):
        super().setUp()
        for child in self.root.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        self.configure(storage=self.storage, recipients="")

    def configure(self, storage=None, recipients=None, **keep):
        params = self.env["ir.config_parameter"].sudo()
        if storage is not None:
            params.set_param(
                "crm_data_backup.offsite_storage_id", storage.id if storage else False
            )
        if recipients is not None:
            params.set_param("crm_data_backup.offsite_age_recipients", recipients)
        for tier, count in keep.items():
            params.set_param(f"crm_data_backup.offsite_keep_{tier}", count)

    @property
    def folder(self):
        return self.root / "crm_data_backup" / self.env.cr.dbname

    def copied_backup(self):
        backup = self.make_backup()
        self.assertEqual(backup.state, "done")
        self.assertEqual(backup.offsite_state, "pending")
        self.env["crm.backup"]._cron_offsite()
        return backup

    def audit(self, action, backup=None):
        domain = [("action", "=", action)]
        if backup:
            domain.append(("backup_id", "=", backup.id))
        return self.env["crm.backup.audit"].sudo().search(domain)

    def verify(self, backup, user=None):
        """The button, then the job it queued."""
        backup.with_user(user or self.env.user).action_verify()
        self.assertEqual(backup.offsite_state, "verifying")
        self.env["crm.backup"]._cron_offsite()

    def inbox(self, backup, user):
        return backup.sudo().message_ids.filtered(
            lambda m: user.partner_id in m.partner_ids
        )


class TestOffsiteCopy(OffsiteCommon):
    def test_copy_is_the_backup_zip_with_its_sidecar(self):
        backup = self.copied_backup()
        self.assertEqual(backup.offsite_state, "copied", backup.offsite_error)
        copy = self.root / backup.offsite_path
        self.assertEqual(copy.parent, self.folder)
        self.assertTrue(copy.name.endswith(".zip"))
        local = backup.attachment_id._full_path(backup.attachment_id.store_fname)
        self.assertEqual(copy.read_bytes(), Path(local).read_bytes())
        self.assertEqual(backup.offsite_sha256, sha256(copy))
        self.assertEqual(backup.offsite_size, copy.stat().st_size)
        sidecar = json.loads(Path(f"{copy}.json").read_text())
        self.assertEqual(sidecar["sha256"], backup.offsite_sha256)
        self.assertEqual(sidecar["backup_id"], backup.id)
        self.assertFalse(sidecar["encrypted"])
        # nothing but the copy and its sidecar: no temporary file left
        self.assertEqual(
            sorted(p.name for p in self.folder.iterdir()),
            sorted([copy.name, f"{copy.name}.json"]),
        )
        self.assertEqual(len(self.audit("offsite_copied", backup)), 1)

    def test_no_storage_no_copy(self):
        self.configure(storage=False)
        backup = self.make_backup()
        self.assertFalse(backup.offsite_state)
        self.env["crm.backup"]._cron_offsite()
        self.assertFalse(self.root.joinpath("crm_data_backup").exists())

    def test_unreachable_storage_fails_notifies_and_is_retried(self):
        blocker = self.root / "not_a_directory"
        blocker.write_text("a file where the storage's directory should be")
        broken = self.storage.copy({"directory_path": str(blocker / "sub")})
        self.configure(storage=broken)
        backup = self.copied_backup()
        self.assertEqual(backup.state, "done", "the backup itself stays done")
        self.assertEqual(backup.offsite_state, "failed")
        self.assertEqual(backup.offsite_attempts, 1)
        self.assertTrue(backup.offsite_error)
        self.assertFalse(backup.offsite_path)
        self.assertEqual(len(self.audit("offsite_failed", backup)), 1)
        self.assertTrue(self.inbox(backup, self.admin), "backup admins are told")
        # retried by the job, quietly, until the storage is back
        self.env["crm.backup"]._cron_offsite()
        self.assertEqual(backup.offsite_attempts, 2)
        self.assertEqual(len(self.inbox(backup, self.admin)), 1)
        self.configure(storage=self.storage)
        self.env["crm.backup"]._cron_offsite()
        self.assertEqual(backup.offsite_state, "copied")
        self.assertFalse(backup.offsite_error)
        self.assertTrue((self.root / backup.offsite_path).is_file())

    def test_expired_backup_is_not_copied(self):
        backup = self.make_backup()
        backup.sudo().write({"expiration_date": datetime.now() - timedelta(hours=1)})
        self.env["crm.backup"]._cron_purge_expired()
        self.env["crm.backup"]._cron_offsite()
        self.assertEqual(backup.offsite_state, "pending")
        self.assertFalse(self.folder.exists() and any(self.folder.iterdir()))


class TestOffsiteEncryption(OffsiteCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.identity = pyrage.x25519.Identity.generate()
        cls.other = pyrage.x25519.Identity.generate()
        cls.stranger = pyrage.x25519.Identity.generate()

    def setUp(self):
        super().setUp()
        recipients = f"# the team's keys\n{self.identity.to_public()}\n\n"
        self.configure(recipients=recipients + f"{self.other.to_public()}\n")

    def test_copy_decrypts_with_each_recipient_and_the_age_command(self):
        backup = self.copied_backup()
        self.assertEqual(backup.offsite_state, "copied", backup.offsite_error)
        self.assertTrue(backup.offsite_encrypted)
        copy = self.root / backup.offsite_path
        self.assertTrue(copy.name.endswith(".zip.age"))
        local = Path(
            backup.attachment_id._full_path(backup.attachment_id.store_fname)
        ).read_bytes()
        encrypted = copy.read_bytes()
        self.assertNotIn(b"manifest.json", encrypted)
        self.assertEqual(pyrage.decrypt(encrypted, [self.identity]), local)
        self.assertEqual(pyrage.decrypt(encrypted, [self.other]), local)
        self.assertEqual(backup.offsite_sha256, sha256(copy))
        sidecar = json.loads(Path(f"{copy}.json").read_text())
        self.assertTrue(sidecar["encrypted"])
        with self.assertRaises(pyrage.DecryptError):
            pyrage.decrypt(encrypted, [self.stranger])
        age = shutil.which("age")
        if not age:
            self.skipTest("the age command line is not installed")
        with tempfile.NamedTemporaryFile("w", suffix=".key") as key:
            key.write(str(self.identity))
            key.flush()
            result = subprocess.run(
                [age, "--decrypt", "-i", key.name, str(copy)],
                capture_output=True,
                check=True,
            )
        self.assertEqual(result.stdout, local)

    def test_wrong_identity_gives_a_clear_error(self):
        backup = self.copied_backup()
        store = self.env["crm.backup"]._offsite_store()
        with self.assertRaises(OffsiteError) as caught:
            store.fetch_zip(backup.offsite_path, self.stranger, encrypted=True)
        self.assertIn(
            "cannot be decrypted with this private key", str(caught.exception)
        )
        with store.fetch_zip(backup.offsite_path, self.other, encrypted=True) as plain:
            self.assertEqual(plain.read(2), b"PK")

    def test_encrypted_copy_is_verified_by_checksum(self):
        backup = self.copied_backup()
        self.verify(backup, self.admin)
        self.assertEqual(backup.offsite_state, "verified", backup.offsite_error)
        self.assertIn("SHA-256", self.audit("offsite_verified", backup).details)

    def test_no_private_key_is_kept(self):
        self.copied_backup()
        secret = str(self.identity).encode()
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT key FROM ir_config_parameter WHERE value ILIKE %s",
            ["%AGE-SECRET-KEY%"],
        )
        self.assertFalse(self.env.cr.fetchall())
        for folder in (self.root, Path(self.env["ir.attachment"]._filestore())):
            for path in folder.rglob("*"):
                if path.is_file():
                    self.assertNotIn(secret, path.read_bytes(), path)

    def test_settings_refuse_private_keys_and_bad_lines(self):
        Settings = self.env["res.config.settings"].sudo()
        params = self.env["ir.config_parameter"].sudo()
        before = params.get_param("crm_data_backup.offsite_age_recipients")
        with self.assertRaisesRegex(ValidationError, "Line 1 is an age private key"):
            Settings.create({"crm_backup_age_recipients": str(self.stranger)})
        with self.assertRaisesRegex(ValidationError, "Line 2 is not an age public"):
            Settings.create(
                {"crm_backup_age_recipients": f"{self.other.to_public()}\nage1nope"}
            )
        self.assertEqual(
            params.get_param("crm_data_backup.offsite_age_recipients"), before
        )
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            Settings.create({"crm_backup_keep_weekly": -1})
        settings = Settings.create(
            {
                "crm_backup_storage_id": self.storage.id,
                "crm_backup_age_recipients": str(self.stranger.to_public()),
                "crm_backup_keep_daily": 3,
            }
        )
        settings.execute()
        self.assertEqual(
            params.get_param("crm_data_backup.offsite_age_recipients"),
            str(self.stranger.to_public()),
        )
        self.assertEqual(params.get_param("crm_data_backup.offsite_keep_daily"), "3")

    def test_bad_recipients_never_copy_in_clear(self):
        backup = self.make_backup()
        self.env["ir.config_parameter"].sudo().set_param(
            "crm_data_backup.offsite_age_recipients", "age1damaged"
        )
        self.env["crm.backup"]._cron_offsite()
        self.assertEqual(backup.offsite_state, "failed")
        self.assertIn("Line 1", backup.offsite_error)
        self.assertFalse(self.folder.exists() and any(self.folder.iterdir()))


class TestOffsiteRetention(OffsiteCommon):
    def test_tiers_as_restic_forget(self):
        start = datetime(2026, 1, 1, 12)
        # one copy a day for 120 days, two on the last day
        copies = [(start + timedelta(days=d), d) for d in range(120)]
        copies.append((start + timedelta(days=119, hours=3), "last"))
        keep = keep_by_tiers(copies, daily=7, weekly=4, monthly=3)
        # day 119 is Thursday 30 April: daily, the newest of each of the last 7
        # days (the 119th day's is "last"); weekly, of the last 4 ISO weeks (the
        # newest week's and Sunday 26 April's are daily ones already, as in
        # restic, where a copy counts in every tier that picks it); monthly, of
        # April ("last"), March and February
        daily = {"last", 118, 117, 116, 115, 114, 113}
        weekly = {108, 101}  # Sundays 19 and 12 April
        monthly = {89, 58}  # 31 March, 28 February
        self.assertEqual(keep, daily | weekly | monthly)
        self.assertEqual(keep_by_tiers(copies, 0, 0, 0), {"last"})
        self.assertEqual(keep_by_tiers([], 7, 4, 12), set())

    def test_a_tier_of_zero_is_kept_from_the_settings(self):
        Settings = self.env["res.config.settings"]
        Settings.create(
            {
                "crm_backup_keep_daily": 0,
                "crm_backup_keep_weekly": 0,
                "crm_backup_keep_monthly": 2,
            }
        ).execute()
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(params.get_param("crm_data_backup.offsite_keep_daily"), "0")
        shown = Settings.create({})
        self.assertEqual(shown.crm_backup_keep_daily, 0)
        self.assertEqual(shown.crm_backup_keep_weekly, 0)
        self.assertEqual(shown.crm_backup_keep_monthly, 2)
        store = self.env["crm.backup"]._offsite_store()
        self.assertEqual(store.keep, {"daily": 0, "weekly": 0, "monthly": 2})
        # two copies this month: only the newest is kept
        older = self.make_backup()
        older.sudo().date_done = datetime.now() - timedelta(minutes=5)
        newer = self.make_backup()
        self.env["crm.backup"]._cron_offsite()
        self.assertEqual(newer.offsite_state, "copied")
        if older.date_done.month == newer.date_done.month:
            self.assertEqual(older.offsite_state, "purged")
        # back to the defaults when the parameter is gone
        params.set_param("crm_data_backup.offsite_keep_daily", False)
        self.assertEqual(Settings.create({}).crm_backup_keep_daily, 7)

    def test_prune_deletes_and_audits(self):
        self.configure(daily=2, weekly=0, monthly=0)
        backups = self.env["crm.backup"]
        now = datetime.now().replace(microsecond=0)
        for days_ago in (0, 1, 2, 3):
            backup = self.make_backup()
            backup.sudo().date_done = now - timedelta(days=days_ago)
            backups |= backup
        self.env["crm.backup"]._cron_offsite()
        kept, purged = backups[:2], backups[2:]
        for backup in kept:
            self.assertEqual(backup.offsite_state, "copied")
            self.assertTrue((self.root / backup.offsite_path).is_file())
        for backup in purged:
            self.assertEqual(backup.offsite_state, "purged")
            self.assertFalse((self.root / backup.offsite_path).exists())
            self.assertFalse((self.root / f"{backup.offsite_path}.json").exists())
            self.assertEqual(len(self.audit("offsite_purged", backup)), 1)
        self.assertEqual(len(list(self.folder.iterdir())), 4)

    def test_copy_of_a_deleted_backup_is_pruned_too(self):
        self.configure(daily=1, weekly=0, monthly=0)
        old = self.copied_backup()
        path = self.root / old.offsite_path
        old.sudo().date_done = datetime.now() - timedelta(days=3)
        old.sudo().unlink()
        self.copied_backup()
        self.assertFalse(path.exists())
        entry = self.audit("offsite_purged").filtered(
            lambda e: e.details == str(path.relative_to(self.root))
        )
        self.assertEqual(len(entry), 1)


class TestOffsiteVerify(OffsiteCommon):
    def test_verify_reads_checks_and_plans(self):
        backup = self.copied_backup()
        self.verify(backup, self.admin)
        self.assertEqual(backup.offsite_state, "verified", backup.offsite_error)
        self.assertTrue(backup.offsite_verified_date)
        details = self.audit("offsite_verified", backup).details
        self.assertIn("files checked", details)
        self.assertNotIn(" 0 objects planned", details)
        # the dry run kept nothing
        self.assertFalse(self.env["crm.backup.restore"].sudo().search([]))

    def test_altered_copy_is_caught_then_copied_again(self):
        backup = self.copied_backup()
        copy = self.root / backup.offsite_path
        data = bytearray(copy.read_bytes())
        data[len(data) // 2] ^= 0xFF
        copy.write_bytes(bytes(data))
        self.env["crm.backup"]._cron_offsite_verify()
        self.assertEqual(backup.offsite_state, "failed")
        self.assertIn("SHA-256", backup.offsite_error)
        self.assertEqual(len(self.audit("offsite_verify_failed", backup)), 1)
        self.assertTrue(self.inbox(backup, self.admin))
        # the job replaces it from the local file
        self.env["crm.backup"]._cron_offsite()
        self.assertEqual(backup.offsite_state, "copied")
        self.assertEqual(sha256(copy), backup.offsite_sha256)
        self.verify(backup)
        self.assertEqual(backup.offsite_state, "verified")

    def test_truncated_or_missing_copy_is_caught(self):
        backup = self.copied_backup()
        copy = self.root / backup.offsite_path
        copy.write_bytes(copy.read_bytes()[:-10])
        # the job's verification step (the job then copies again: see above)
        backup._offsite_verify()
        self.assertEqual(backup.offsite_state, "failed")
        self.assertIn("bytes", backup.offsite_error)
        copy.unlink()
        backup._offsite_verify()
        self.assertIn("missing", backup.offsite_error)

    def test_verify_is_queued_for_the_job_and_told(self):
        backup = self.copied_backup()
        self.env.flush_all()
        self.env.cr.execute("SELECT coalesce(max(id), 0) FROM ir_cron_trigger")
        triggers = self.env.cr.fetchone()[0]
        action = backup.with_user(self.admin).action_verify()
        # nothing read yet in the request: the job does it
        self.assertEqual(action["params"]["type"], "info")
        self.assertEqual(backup.offsite_state, "verifying")
        self.assertEqual(backup.offsite_verify_requested_by_id, self.admin)
        self.assertFalse(backup.offsite_verified_date)
        self.assertFalse(self.audit("offsite_verified", backup))
        cron = self.env.ref("crm_data_backup.ir_cron_crm_backup_offsite")
        self.assertTrue(
            self.env["ir.cron.trigger"]
            .sudo()
            .search([("id", ">", triggers), ("cron_id", "=", cron.id)])
        )
        # asked twice: queued once
        backup.with_user(self.admin).action_verify()
        self.env["crm.backup"]._cron_offsite()
        self.assertEqual(backup.offsite_state, "verified", backup.offsite_error)
        self.assertFalse(backup.offsite_verify_requested_by_id)
        entry = self.audit("offsite_verified", backup)
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.user_id, self.admin, "audited as who asked")
        told = self.inbox(backup, self.admin)
        self.assertEqual(len(told), 1)
        self.assertIn("found whole", told.body)

    def test_verification_state_goes_to_the_screens(self):
        backup = self.copied_backup()
        self.assertIn("offsite_state", backup._live_fields)
        self.env.flush_all()
        self.env.cr.execute("SELECT coalesce(max(id), 0) FROM bus_bus")
        start = self.env.cr.fetchone()[0]
        backup.with_user(self.admin).action_verify()
        self.env.cr.flush()
        messages = self.env["bus.bus"].sudo().search([("id", ">", start)])
        live = [
            json.loads(m.message)
            for m in messages
            if self.admin.partner_id.id == json.loads(m.channel)[2]
        ]
        self.assertIn(
            {"model": "crm.backup", "ids": [backup.id]},
            [m["payload"] for m in live if m["type"] == "crm_data_backup/job"],
        )

    def test_queued_verification_that_fails_tells_who_asked(self):
        backup = self.copied_backup()
        copy = self.root / backup.offsite_path
        copy.write_bytes(b"PK" + copy.read_bytes()[2:-1])
        backup.with_user(self.admin).action_verify()
        self.assertEqual(backup.offsite_state, "verifying")
        self.env["crm.backup"]._cron_offsite()
        entry = self.audit("offsite_verify_failed", backup)
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.user_id, self.admin)
        self.assertIn("bytes", entry.details)
        told = self.inbox(backup, self.admin)
        self.assertEqual(len(told), 1, "told once, as an admin and who asked")
        self.assertIn("not verified", told.subject)
        # the same run of the job replaced the copy from the local file
        self.assertEqual(backup.offsite_state, "copied")
        self.assertEqual(sha256(copy), backup.offsite_sha256)

    def test_verify_needs_a_copy(self):
        backup = self.make_backup()
        with self.assertRaisesRegex(UserError, "no off-site copy"):
            backup.action_verify()


class TestOffsiteVerifyWithKey(OffsiteCommon):
    """An encrypted copy verified with its private key, given for once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.identity = pyrage.x25519.Identity.generate()

    def setUp(self):
        super().setUp()
        self.configure(recipients=str(self.identity.to_public()))

    def verify_with(self, backup, key, user=None):
        Wizard = self.env["crm.backup.offsite.verify"].with_user(user or self.admin)
        wizard = Wizard.create({"backup_id": backup.id, "identity": key})
        return wizard.action_verify()

    def test_decrypts_checks_every_file_and_plans(self):
        backup = self.copied_backup()
        self.assertTrue(backup.offsite_encrypted)
        action = self.verify_with(backup, str(self.identity))
        self.assertEqual(action["params"]["type"], "success", action)
        self.assertEqual(backup.offsite_state, "verified", backup.offsite_error)
        details = self.audit("offsite_verified", backup).details
        self.assertIn("files checked", details)
        self.assertNotIn(" 0 objects planned", details)
        self.assertEqual(self.audit("offsite_verified", backup).user_id, self.admin)
        self.assertFalse(self.env["crm.backup.restore"].sudo().search([]))
        # the key: in no column
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'crm_backup_offsite_verify'"
        )
        self.assertNotIn("identity", {row[0] for row in self.env.cr.fetchall()})

    def test_a_damaged_file_inside_is_caught(self):
        """A copy whose SHA-256 is right but whose zip holds a file that does
        not match the manifest (damaged before it was encrypted)."""
        backup = self.copied_backup()
        copy = self.root / backup.offsite_path
        plain = pyrage.decrypt(copy.read_bytes(), [self.identity])
        with zipfile.ZipFile(io.BytesIO(plain)) as source:
            damaged = io.BytesIO()
            with zipfile.ZipFile(damaged, "w") as target:
                for item in source.infolist():
                    data = source.read(item)
                    if item.filename.endswith(".csv") and len(data) > 20:
                        data = data[:-3] + b"XYZ"
                    target.writestr(item, data)
        encrypted = pyrage.encrypt(damaged.getvalue(), [self.identity.to_public()])
        copy.write_bytes(encrypted)
        backup.sudo().write(
            {"offsite_sha256": sha256(copy), "offsite_size": len(encrypted)}
        )
        action = self.verify_with(backup, str(self.identity))
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(backup.offsite_state, "failed")
        self.assertEqual(len(self.audit("offsite_verify_failed", backup)), 1)
        # the checksum-only job would have passed it
        self.verify(backup)
        self.assertEqual(backup.offsite_state, "verified")

    def test_wrong_or_bad_key_is_a_clear_error_and_changes_nothing(self):
        backup = self.copied_backup()
        stranger = pyrage.x25519.Identity.generate()
        with self.assertRaisesRegex(UserError, "cannot be decrypted"):
            self.verify_with(backup, str(stranger))
        with self.assertRaisesRegex(UserError, "not an age private key"):
            self.verify_with(backup, "AGE-SECRET-KEY-1NOPE")
        self.assertEqual(backup.offsite_state, "copied")
        self.assertFalse(self.audit("offsite_verify_failed", backup))
        wizard = (
            self.env["crm.backup.offsite.verify"]
            .with_user(self.admin)
            .create({"backup_id": backup.id})
        )
        with self.assertRaisesRegex(UserError, "Enter the age private key"):
            wizard.action_verify()

    def test_unencrypted_copy_or_none_is_refused(self):
        self.configure(recipients="")
        backup = self.copied_backup()
        with self.assertRaisesRegex(UserError, "not encrypted"):
            self.verify_with(backup, str(self.identity))
        with self.assertRaisesRegex(UserError, "no off-site copy"):
            self.verify_with(self.make_backup(), str(self.identity))

    def test_other_company_admin_and_salesman_cannot(self):
        backup = self.copied_backup()
        other = self.env["res.company"].sudo().create({"name": "Verify Other Co"})
        admin_b = new_test_user(
            self.env,
            login="offsite_verify_admin_b",
            groups="base.group_user,crm_data_backup.group_crm_backup_admin",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        with self.assertRaises(AccessError):
            self.verify_with(backup, str(self.identity), user=admin_b)
        with self.assertRaises(AccessError):
            self.verify_with(backup, str(self.identity), user=self.salesman)
        self.assertEqual(backup.offsite_state, "copied")
        wizard = (
            self.env["crm.backup.offsite.verify"]
            .with_user(self.admin)
            .create({"backup_id": backup.id})
        )
        with self.assertRaises(AccessError):
            wizard.write({"verified": True})


class TestOffsiteAccess(OffsiteCommon):
    def test_offsite_fields_are_server_owned(self):
        backup = self.copied_backup()
        for vals in (
            {"offsite_state": "verified"},
            {"offsite_sha256": "0" * 64},
            {"offsite_path": "../../etc/passwd"},
            {"offsite_attempts": 0},
        ):
            with self.assertRaises(AccessError):
                backup.with_user(self.admin).write(vals)
        self.assertEqual(backup.offsite_state, "copied")

    def test_salesman_cannot_verify(self):
        backup = self.copied_backup()
        with self.assertRaises(AccessError):
            backup.with_user(self.salesman).action_verify()

    def test_backup_admin_cannot_change_the_storage_settings(self):
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(self.admin).create(
                {"crm_backup_storage_id": False}
            ).execute()
        self.assertEqual(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("crm_data_backup.offsite_storage_id"),
            str(self.storage.id),
        )
        with self.assertRaises(AccessError):
            self.env["fs.storage"].with_user(self.admin).search([]).read(["options"])


class TestOffsiteFetch(OffsiteCommon):
    def fetch(self, backup, user=None, identity=None):
        Wizard = self.env["crm.backup.offsite.fetch"].with_user(user or self.admin)
        vals = {"copy_path": backup.offsite_path}
        if identity:
            vals["identity"] = identity
        wizard = Wizard.create(vals)
        action = wizard.action_fetch()
        return self.env["crm.backup.restore"].browse(action["res_id"])

    def test_restore_from_a_copy_after_the_local_file_expired(self):
        backup = self.copied_backup()
        backup.sudo().expiration_date = datetime.now() - timedelta(hours=1)
        self.env["crm.backup"]._cron_purge_expired()
        self.assertEqual(backup.state, "expired")
        restore = self.fetch(backup)
        self.assertEqual(restore.source, "upload")
        self.assertEqual(restore.upload_filename, Path(backup.offsite_path).name)
        reader = restore.with_user(self.admin)._open_reader()
        reader.close()
        self.assertEqual(len(self.audit("offsite_fetched", backup)), 1)

    def test_encrypted_copy_needs_its_private_key_never_stored(self):
        identity = pyrage.x25519.Identity.generate()
        self.configure(recipients=str(identity.to_public()))
        backup = self.copied_backup()
        Wizard = self.env["crm.backup.offsite.fetch"].with_user(self.admin)
        wizard = Wizard.create({"copy_path": backup.offsite_path})
        self.assertTrue(wizard.encrypted)
        with self.assertRaisesRegex(UserError, "Enter the age private key"):
            wizard.action_fetch()
        stranger = pyrage.x25519.Identity.generate()
        with self.assertRaisesRegex(UserError, "cannot be decrypted"):
            wizard.write({"identity": str(stranger)})
        with self.assertRaisesRegex(UserError, "not an age private key"):
            wizard.write({"identity": "AGE-SECRET-KEY-1NOPE"})
        restore = self.fetch(backup, identity=str(identity))
        self.assertTrue(restore.upload_file)
        self.assertFalse(restore.upload_filename.endswith(".age"))
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'crm_backup_offsite_fetch'"
        )
        self.assertNotIn("identity", {row[0] for row in self.env.cr.fetchall()})

    def test_encrypted_restore_asks_the_key_at_the_identity_step(self):
        identity = pyrage.x25519.Identity.generate()
        self.configure(recipients=str(identity.to_public()))
        backup = self.copied_backup()
        user = new_test_user(
            self.env,
            login="offsite_restorer",
            password="Offsite-Restorer-9",
            groups="base.group_user,base.group_partner_manager,"
            "crm_data_backup.group_crm_backup_admin",
        )
        restore = self.fetch(backup, user=user, identity=str(identity))
        self.assertEqual(restore.offsite_copy_path, backup.offsite_path)
        self.assertEqual(restore.offsite_recipient, str(identity.to_public()))
        contacts = self.env["crm.backup.object"].search([("key", "=", "contacts")])
        phone = self.env["ir.model.fields"]._get("res.partner", "phone")
        restore = restore.with_user(user)
        restore.write({"object_id": contacts.id, "field_ids": [(6, 0, phone.ids)]})
        restore.action_plan()
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        action = restore.action_restore()
        wizard = (
            self.env["crm.backup.restore.auth"].with_user(user).browse(action["res_id"])
        )
        self.assertTrue(wizard.needs_age_identity)
        # the password alone is not enough, nor another key
        wizard.write({"password": "Offsite-Restorer-9"})
        self.assertIn("age private key", wizard.error)
        stranger = pyrage.x25519.Identity.generate()
        wizard.write({"password": "Offsite-Restorer-9", "age_identity": str(stranger)})
        self.assertIn("not the private key", wizard.error)
        wizard.write({"password": "wrong", "age_identity": str(identity)})
        self.assertIn("Wrong password", wizard.error)
        self.assertFalse(wizard.verified_date)
        failures = self.audit("identity_failed").filtered(lambda e: e.user_id == user)
        self.assertEqual(len(failures), 3)
        wizard.write({"password": "Offsite-Restorer-9", "age_identity": str(identity)})
        self.assertFalse(wizard.error)
        self.assertTrue(wizard.verified_date)
        wizard.action_confirm()
        self.assertEqual(restore.state, "queued")
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'crm_backup_restore_auth'"
        )
        self.assertNotIn("age_identity", {row[0] for row in self.env.cr.fetchall()})
        # an unencrypted copy's restore asks the password only
        self.configure(recipients="")
        plain = self.fetch(self.copied_backup(), user=user)
        self.assertFalse(plain.offsite_recipient)
        with self.assertRaises(AccessError):
            plain.with_user(user).write({"offsite_recipient": "age1forged"})

    def test_other_company_admin_cannot_fetch(self):
        backup = self.copied_backup()
        other = self.env["res.company"].sudo().create({"name": "Offsite Other Co"})
        admin_b = new_test_user(
            self.env,
            login="offsite_admin_b",
            groups="base.group_user,crm_data_backup.group_crm_backup_admin",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        Wizard = self.env["crm.backup.offsite.fetch"].with_user(admin_b)
        self.assertFalse(Wizard._selection_copies())
        self.assertTrue(
            self.env["crm.backup.offsite.fetch"]
            .with_user(self.admin)
            ._selection_copies()
        )
        with self.assertRaisesRegex(UserError, "Choose an off-site copy"):
            Wizard.create({"copy_path": backup.offsite_path}).action_fetch()
        with self.assertRaises(AccessError):
            self.env["crm.backup.offsite.fetch"].with_user(self.salesman).create(
                {"copy_path": backup.offsite_path}
            )

    def test_copy_of_another_database_is_for_settings_admins(self):
        backup = self.copied_backup()
        copy = self.root / backup.offsite_path
        other = self.root / "crm_data_backup" / "another_database"
        other.mkdir()
        moved = other / copy.name
        shutil.copyfile(copy, moved)
        shutil.copyfile(f"{copy}.json", f"{moved}.json")
        path = str(moved.relative_to(self.root))
        Wizard = self.env["crm.backup.offsite.fetch"]
        self.assertNotIn(path, dict(Wizard.with_user(self.admin)._selection_copies()))
        with self.assertRaisesRegex(UserError, "Choose an off-site copy"):
            Wizard.with_user(self.admin).create({"copy_path": path}).action_fetch()
        system = new_test_user(
            self.env, login="offsite_system", groups="base.group_user,base.group_system"
        )
        system.groups_id |= self.env.ref("crm_data_backup.group_crm_backup_admin")
        self.assertIn(path, dict(Wizard.with_user(system)._selection_copies()))
        action = Wizard.with_user(system).create({"copy_path": path}).action_fetch()
        restore = self.env["crm.backup.restore"].browse(action["res_id"])
        self.assertEqual(restore.upload_filename, copy.name)
