# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from werkzeug.exceptions import Forbidden, NotFound

from odoo import fields, http
from odoo.http import request


class CrmBackupController(http.Controller):
    @http.route(
        "/crm_data_backup/download/<int:backup_id>",
        type="http",
        auth="user",
        methods=["GET"],
    )
    def download(self, backup_id):
        """Stream a finished backup zip to a member of the backup group."""
        env = request.env
        if not env.user.has_group("crm_data_backup.group_crm_backup_admin"):
            raise Forbidden()
        # the user's own access rights (ACL + company rule) decide visibility
        backup = env["crm.backup"].search([("id", "=", backup_id)])
        if (
            not backup
            or backup.state != "done"
            or not backup.attachment_id
            or (
                backup.expiration_date
                and backup.expiration_date <= fields.Datetime.now()
            )
        ):
            raise NotFound()
        env["crm.backup.audit"]._log(
            "backup_downloaded",
            backup_id=backup.id,
            remote_addr=request.httprequest.remote_addr,
        )
        stream = env["ir.binary"]._get_stream_from(backup.attachment_id.sudo())
        return stream.get_response(as_attachment=True)
