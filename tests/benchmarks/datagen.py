"""Fast, realistic CRM data for the benchmarks.

Rows are inserted with set-based SQL (generate_series), then the ORM recomputes every
stored computed field of the new records, so the database looks as if users had created
them. External IDs are created for every generated record (as after a first backup or
export), so that all measurements compare the same steady state.

Per size N: N contacts (persons), N/10 companies, N/5 deals, N/5 activities (half of
them calls), N/2 messages (comments and emails on contacts and deals), 40 contact tags.
"""

import logging
import time

_logger = logging.getLogger(__name__)

MARKER = "crm_data_backup_bench.size"
BATCH = 50_000

FIRST = (
    "Anna Ben Chloé Daniel Emma Farid Giulia Hugo Inès Jonas Kenji Léa Mateo Nora "
    "Omar Paula Quentin Rosa Samir Tess Ugo Vera Wei Xavier Yara Zoé Amir Bianca "
    "Carlos Dana Elif Finn Greta Hamza Ivy Jamal Kofi Lina Malik Noémie"
).split()
LAST = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon "
    "Laurent Lefebvre Michel García Müller Rossi Novak Kowalski Nguyen Smith "
    "O'Brien Jones Taylor Brown Williams Wilson Johnson Davies Evans Silva Santos "
    "Costa Pereira Yilmaz Kaya Schmidt Schneider Fischer Weber"
).split()
CITIES = (
    "Paris Lyon Bruxelles Genève Montréal Berlin Madrid Lisboa Milano Amsterdam "
    "Zürich London Dublin Warszawa Praha Wien Köln Porto Sevilla Napoli"
).split()
STREETS = [
    "Rue de la Paix",
    "Avenue des Champs-Élysées",
    "Main Street",
    "Hauptstraße",
    "Calle Mayor",
    "Via Roma",
    'Building "B", Harbour Road',
    "Kerkstraat",
]
COMPANY_WORDS = (
    "Acme Globex Initech Umbrella Stark Wayne Wonka Tyrell Soylent Hooli".split()
)
COMPANY_KINDS = ["Industries", "Labs", "Group", "Partners", "Systems", "& Co"]


def _sql_array(words):
    return "(ARRAY[%s])" % ",".join("'%s'" % w.replace("'", "''") for w in words)


def _new_ids(cr, table, after):
    cr.execute(f"SELECT id FROM {table} WHERE id > %s ORDER BY id", (after,))
    return [r[0] for r in cr.fetchall()]


def _max_id(cr, table):
    cr.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    return cr.fetchone()[0]


def _recompute(env, model_name, ids):
    """Recompute every stored computed field of the SQL-inserted records.

    Binary fields are left out: they are empty here, and writing them searches
    attachments one record at a time.
    """
    env = env(context=dict(env.context, tracking_disable=True))
    model = env[model_name]
    fields = [
        f
        for f in model._fields.values()
        if f.store and f.compute and f.type not in ("binary", "image")
    ]
    for start in range(0, len(ids), BATCH):
        records = model.browse(ids[start : start + BATCH])
        for field in fields:
            env.add_to_compute(field, records)
        env.flush_all()
        env.invalidate_all()


def _add_xmlids(cr, model_name, table, ids):
    """External IDs shaped like the ones export_data creates."""
    if not ids:
        return
    cr.execute(
        """
        INSERT INTO ir_model_data (module, name, model, res_id, noupdate)
        SELECT '__export__', %s || '_' || i || '_' || substr(md5(random()::text), 1, 8),
               %s, i, false
        FROM unnest(%s::int[]) AS i
        """,
        (table, model_name, ids),
    )


def generate(env, size):
    """Fill the database with `size` contacts and proportional CRM records."""
    cr = env.cr
    started = time.monotonic()
    n_companies = max(size // 10, 1)
    audit = "2, 2, now() at time zone 'UTC', now() at time zone 'UTC'"

    tags = env["res.partner.category"].create(
        [{"name": f"Tag {c}{i}"} for c in "ABCDEFGH" for i in range(5)]
    )
    env.flush_all()

    cr.execute("SELECT array_agg(id ORDER BY id) FROM res_country")
    countries = cr.fetchone()[0]

    # companies
    before = _max_id(cr, "res_partner")
    cr.execute(
        f"""
        INSERT INTO res_partner (name, is_company, type, active, email, phone, street,
            city, zip, country_id, lang, color, create_uid, write_uid, create_date,
            write_date)
        SELECT {_sql_array(COMPANY_WORDS)}[1 + i %% 10] || ' '
                   || {_sql_array(COMPANY_KINDS)}[1 + (i / 10) %% 6] || ' ' || i,
               true, 'contact', true,
               'info' || i || '@company' || (i %% 997) || '.example.com',
               '+1 555 ' || lpad((i %% 10000000)::text, 7, '0'),
               (1 + i %% 300) || ' ' || {_sql_array(STREETS)}[1 + i %% 8],
               {_sql_array(CITIES)}[1 + i %% 20],
               lpad((i %% 99999)::text, 5, '0'),
               (%(countries)s::int[])[1 + i %% %(n_countries)s],
               'en_US', 0, {audit}
        FROM generate_series(1, %(n)s) AS i
        """,
        {"countries": countries, "n_countries": len(countries), "n": n_companies},
    )
    companies = _new_ids(cr, "res_partner", before)

    # persons, 4 out of 5 working for a company
    before = _max_id(cr, "res_partner")
    cr.execute(
        f"""
        INSERT INTO res_partner (name, is_company, type, active, email, phone, street,
            city, zip, country_id, parent_id, lang, color, function, create_uid,
            write_uid, create_date, write_date)
        SELECT {_sql_array(FIRST)}[1 + i %% 40] || ' '
                   || {_sql_array(LAST)}[1 + (i / 40) %% 40],
               false, 'contact', true,
               lower({_sql_array(FIRST)}[1 + i %% 40]) || '.' || i || '@example.com',
               CASE WHEN i %% 7 = 0 THEN NULL
                    ELSE '+33 1 ' || lpad((i %% 100000000)::text, 8, '0') END,
               (1 + i %% 200) || ' ' || {_sql_array(STREETS)}[1 + (i / 3) %% 8]
                   || CASE WHEN i %% 3 = 0 THEN ', apt ' || (i %% 50) ELSE '' END,
               {_sql_array(CITIES)}[1 + (i / 7) %% 20],
               lpad((i %% 99999)::text, 5, '0'),
               (%(countries)s::int[])[1 + (i / 3) %% %(n_countries)s],
               CASE WHEN i %% 5 = 0 THEN NULL
                    ELSE (%(companies)s::int[])[1 + i %% %(n_companies)s] END,
               'en_US', 0,
               CASE WHEN i %% 4 = 0 THEN 'Sales Manager' ELSE NULL END,
               {audit}
        FROM generate_series(1, %(n)s) AS i
        """,
        {
            "countries": countries,
            "n_countries": len(countries),
            "companies": companies,
            "n_companies": len(companies),
            "n": size,
        },
    )
    persons = _new_ids(cr, "res_partner", before)

    # 0 to 3 tags per person (1.5 on average)
    cr.execute(
        """
        INSERT INTO res_partner_res_partner_category_rel (partner_id, category_id)
        SELECT p, (%(tags)s::int[])[1 + (p + k * 7) %% 40]
        FROM unnest(%(persons)s::int[]) AS p, generate_series(1, p %% 4) AS k
        """,
        {"tags": tags.ids, "persons": persons},
    )
    _logger.info("bench data: %d partners inserted", len(companies) + len(persons))
    _recompute(env, "res.partner", companies + persons)

    # deals
    cr.execute("SELECT array_agg(id ORDER BY sequence, id) FROM crm_stage")
    stages = cr.fetchone()[0]
    team = env["crm.team"].search([], limit=1).id
    before = _max_id(cr, "crm_lead")
    n_deals = max(size // 5, 1)
    cr.execute(
        f"""
        INSERT INTO crm_lead (name, type, active, partner_id, stage_id, team_id,
            user_id, company_id, expected_revenue, priority, description,
            date_deadline, date_open, date_last_stage_update, create_uid, write_uid,
            create_date, write_date)
        SELECT 'Deal ' || i || ': ' || {_sql_array(COMPANY_WORDS)}[1 + i %% 10]
                   || ' renewal',
               'opportunity', true,
               (%(persons)s::int[])[1 + (i * 13) %% %(n_persons)s],
               (%(stages)s::int[])[1 + i %% %(n_stages)s],
               %(team)s, 2, %(company)s,
               (i %% 500) * 100.0 + 0.5,
               ((i %% 4))::text,
               CASE WHEN i %% 3 = 0 THEN '<p>Follow-up, budget approved</p>' END,
               (now() + (i %% 90) * interval '1 day')::date,
               now() at time zone 'UTC', now() at time zone 'UTC', {audit}
        FROM generate_series(1, %(n)s) AS i
        """,
        {
            "persons": persons,
            "n_persons": len(persons),
            "stages": stages,
            "n_stages": len(stages),
            "team": team,
            "company": env.company.id,
            "n": n_deals,
        },
    )
    deals = _new_ids(cr, "crm_lead", before)
    _logger.info("bench data: %d deals inserted", len(deals))
    _recompute(env, "crm.lead", deals)

    # activities on deals: half calls, half to-dos
    call = env.ref("mail.mail_activity_data_call").id
    todo = env.ref("mail.mail_activity_data_todo").id
    before = _max_id(cr, "mail_activity")
    cr.execute(
        f"""
        INSERT INTO mail_activity (res_model_id, res_model, res_id, activity_type_id,
            summary, note, date_deadline, user_id, automated, create_uid, write_uid,
            create_date, write_date)
        SELECT %(lead_model)s, 'crm.lead',
               (%(deals)s::int[])[1 + i %% %(n_deals)s],
               CASE WHEN i %% 2 = 0 THEN %(call)s ELSE %(todo)s END,
               CASE WHEN i %% 2 = 0 THEN 'Call back about the quote'
                    ELSE 'Send the contract' END,
               '<p>Activity ' || i || '</p>',
               (now() + (i %% 30) * interval '1 day')::date, 2, false, {audit}
        FROM generate_series(1, %(n)s) AS i
        """,
        {
            "lead_model": env["ir.model"]._get_id("crm.lead"),
            "deals": deals,
            "n_deals": len(deals),
            "call": call,
            "todo": todo,
            "n": max(size // 5, 1),
        },
    )
    activities = _new_ids(cr, "mail_activity", before)
    _recompute(env, "mail.activity", activities)

    # messages: comments and emails on contacts and deals
    before = _max_id(cr, "mail_message")
    cr.execute(
        f"""
        INSERT INTO mail_message (model, res_id, message_type, subtype_id, body,
            subject, author_id, email_from, date, message_id, create_uid, write_uid,
            create_date, write_date)
        SELECT CASE WHEN i %% 2 = 0 THEN 'res.partner' ELSE 'crm.lead' END,
               CASE WHEN i %% 2 = 0 THEN (%(persons)s::int[])[1 + i %% %(n_persons)s]
                    ELSE (%(deals)s::int[])[1 + i %% %(n_deals)s] END,
               CASE WHEN i %% 3 = 0 THEN 'email' ELSE 'comment' END,
               %(subtype)s,
               '<p>Hello, following our call: the offer #' || i
                   || ' is attached. Best regards.</p>',
               CASE WHEN i %% 3 = 0 THEN 'Re: offer ' || i END,
               3, 'Mitchell Admin <admin@example.com>',
               now() at time zone 'UTC' - (i %% 1000) * interval '1 hour',
               '<bench.' || i || '@example.com>', {audit}
        FROM generate_series(1, %(n)s) AS i
        """,
        {
            "persons": persons,
            "n_persons": len(persons),
            "deals": deals,
            "n_deals": len(deals),
            "subtype": env.ref("mail.mt_comment").id,
            "n": max(size // 2, 1),
        },
    )
    messages = _new_ids(cr, "mail_message", before)
    _recompute(env, "mail.message", messages)

    _add_xmlids(cr, "res.partner.category", "res_partner_category", tags.ids)
    _add_xmlids(cr, "res.partner", "res_partner", companies + persons)
    _add_xmlids(cr, "crm.lead", "crm_lead", deals)
    _add_xmlids(cr, "mail.activity", "mail_activity", activities)
    _add_xmlids(cr, "mail.message", "mail_message", messages)
    env["ir.config_parameter"].sudo().set_param(MARKER, str(size))
    env.flush_all()
    return {
        "seconds": time.monotonic() - started,
        "contacts": len(persons),
        "companies": len(companies),
        "deals": len(deals),
        "activities": len(activities),
        "messages": len(messages),
    }
