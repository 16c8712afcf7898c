# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..orm.offsite import OffsiteError, parse_identity


class CrmBackupOffsiteFetch(models.TransientModel):
    """Start a restore from an off-site copy: also after the backup's local file
    expired, or from another database's copy.

    The age private key of an encrypted copy is used once, when the wizard is
    saved, and never reaches a column (as the identity check's password)."""

    _name = "crm.backup.offsite.fetch"
    _inherit = ["crm.backup.server.owned", "crm.backup.age.identity"]
    _description = "Restore From an Off-site Copy"
    _user_fields = frozenset({"copy_path", "identity"})

    copy_path = fields.Selection(
        selection="_selection_copies",
        string="Off-site copy",
        help="The copies on the off-site storage that you may restore from.",
    )
    encrypted = fields.Boolean(
        compute="_compute_encrypted", help="The copy is encrypted with age."
    )
    restore_id = fields.Many2one(
        "crm.backup.restore",
        readonly=True,
        help="The restore started from the copy.",
    )

    @api.depends("copy_path")
    def _compute_encrypted(self):
        for wizard in self:
            wizard.encrypted = bool(wizard.copy_path) and wizard.copy_path.endswith(
                ".age"
            )

    @api.model
    def _store(self):
        try:
            store = self.env["crm.backup"]._offsite_store()
        except UserError:
            store = None
        if store is None:
            raise UserError(self.env._("No off-site storage is set in Settings."))
        return store

    @api.model
    def _selection_copies(self):
        try:
            copies = self._store().list_all_copies()
        except (UserError, OffsiteError, OSError):
            # the form still opens; the storage's error shows when fetching
            return []
        return [
            (
                copy["path"],
                "%s · %s · #%s%s"
                % (
                    copy["database"],
                    copy["date"].strftime("%Y-%m-%d %H:%M"),
                    copy["backup_id"],
                    " (age)" if copy["encrypted"] else "",
                ),
            )
            for copy in copies
            if self._may_fetch(copy)
        ]

    @api.model
    def _may_fetch(self, copy):
        """A copy of a backup of this database that the user may read; other
        copies (another database's, or a deleted backup's) hold data of any
        company: Settings administrators only."""
        if self.env.user.has_group("base.group_system"):
            return True
        if copy["database"] != self.env.cr.dbname:
            return False
        backup = self.env["crm.backup"].browse(copy["backup_id"]).sudo().exists()
        if not backup:
            return False
        try:
            backup.with_env(self.env).check_access("read")
        except AccessError:
            return False
        return True

    def action_fetch(self):
        """Open the restore made from the copy (fetched now if unencrypted)."""
        self.ensure_one()
        if not self.restore_id:
            if self.encrypted:
                raise UserError(
                    self.env._("Enter the age private key that decrypts this copy.")
                )
            self._fetch(None)
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.backup.restore",
            "res_id": self.restore_id.id,
            "view_mode": "form",
            "target": "current",
        }

    def _use_identity(self, identity):
        self._fetch(identity)

    def _fetch(self, identity):
        """Check the copy against its sidecar, decrypt it, start a restore
        from its zip (as an uploaded file)."""
        self.ensure_one()
        if self.restore_id:
            return
        store = self._store()
        copy = next(
            (c for c in store.list_all_copies() if c["path"] == self.copy_path), None
        )
        if not copy or not self._may_fetch(copy):
            raise UserError(self.env._("Choose an off-site copy from the list."))
        try:
            key = parse_identity(identity) if copy["encrypted"] else None
            sidecar = store.read_sidecar(copy["path"])
            store.check_copy(copy["path"], sidecar["sha256"], sidecar["size"])
            with store.fetch_zip(copy["path"], key, copy["encrypted"]) as plain:
                data = plain.read()
        except OffsiteError as exc:
            raise UserError(exc.translated(self.env._)) from None
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(
                self.env._("The off-site copy cannot be read: %(error)s", error=exc)
            ) from None
        restore = self.env["crm.backup.restore"].create(
            {
                "source": "upload",
                "upload_file": base64.b64encode(data),
                "upload_filename": copy["name"].removesuffix(".age"),
            }
        )
        # the identity check before it runs asks for this key again
        restore.sudo().write(
            {
                "offsite_copy_path": copy["path"],
                "offsite_recipient": str(key.to_public()) if key else False,
            }
        )
        self.sudo().restore_id = restore
        self.env["crm.backup.audit"]._log(
            "offsite_fetched",
            backup_id=self.env["crm.backup"]
            .sudo()
            .browse(copy["backup_id"])
            .exists()
            .id
            if copy["database"] == self.env.cr.dbname
            else False,
            restore_id=restore.id,
            details=copy["path"],
        )
