use super::*;

/// The effects of `sql` as one short line each: `+rel t`, `-col t.c`, `t->u` …
fn shown(sql: &str) -> Vec<String> {
    of_file(sql)
        .unwrap()
        .into_iter()
        .map(|(_, e)| match e {
            Effect::Create {
                object, may_exist, ..
            } => format!("{}{}", if may_exist { "~" } else { "+" }, obj(&object)),
            Effect::Drop { object } => format!("-{}", obj(&object)),
            Effect::Rename { from, to } => format!("{}->{}", obj(&from), obj(&to)),
            Effect::UnknownColumns(n) => format!("?cols {n}"),
            Effect::KnownColumns(n) => format!("cols {n}"),
            Effect::Alter(o) => format!("*{}", obj(&o)),
            Effect::Uses(o) => format!("uses {}", obj(&o)),
            Effect::Depends { object, columns } => {
                format!("{} on {}", obj(&object), columns.join(","))
            }
            Effect::Shape { index, shape } => format!("{index} on {shape:?}"),
            Effect::AutoNamed(o) => format!("auto {}", obj(&o)),
            Effect::DependsOn { object, relation } => {
                format!("{} on rel {relation}", obj(&object))
            }
            Effect::Overload {
                function,
                args,
                dropped,
            } => format!(
                "{} fn {function}({}) on args",
                if dropped { "-" } else { "+" },
                args.unwrap_or_default()
            ),
            Effect::Cascaded(o) => format!("cascade {}", obj(&o)),
            Effect::IfAbsent(o) => format!("unless {}", obj(&o)),
        })
        .filter(|line| {
            !line.contains(" on ")
                && !line.starts_with("auto ")
                && !line.starts_with("cascade ")
                && !line.starts_with("unless ")
        })
        .collect()
}

/// The `AutoNamed` and `Cascaded` markers among the effects of `sql`.
fn markers(sql: &str) -> Vec<String> {
    of_file(sql)
        .unwrap()
        .into_iter()
        .filter_map(|(_, e)| match e {
            Effect::AutoNamed(o) => Some(format!("auto {}", obj(&o))),
            Effect::Cascaded(o) => Some(format!("cascade {}", obj(&o))),
            _ => None,
        })
        .collect()
}

fn obj(o: &Object) -> String {
    match o {
        Object::Relation(n) => format!("rel {n}"),
        Object::Type(n) => format!("type {n}"),
        Object::Function(n) => format!("fn {n}"),
        Object::Schema(s) => format!("schema {s}"),
        Object::Extension(s) => format!("ext {s}"),
        Object::Column(t, c) => format!("col {t}.{c}"),
        Object::Constraint(t, c) => format!("con {t}.{c}"),
        Object::Trigger(t, c) => format!("trg {t}.{c}"),
        Object::EnumValue(t, v) => format!("enum {t}.{v}"),
    }
}

#[test]
fn create_table_names_columns_constraints_and_what_postgres_names_for_them() {
    assert_eq!(
        shown(
            "CREATE TABLE IF NOT EXISTS crm.\"Leads\" (id bigserial PRIMARY KEY, email text CONSTRAINT email_ok CHECK (email <> '') UNIQUE, \
             tenant_id int NOT NULL REFERENCES business (id), CONSTRAINT leads_tenant_fk FOREIGN KEY (tenant_id) REFERENCES business, \
             UNIQUE (tenant_id, email), CHECK (id > 0))"
        ),
        [
            "~rel crm.Leads",
            "+col crm.Leads.id",
            "+rel crm.Leads_id_seq",
            "+con crm.Leads.Leads_pkey",
            "+rel crm.Leads_pkey",
            "+col crm.Leads.email",
            "+con crm.Leads.email_ok",
            "+con crm.Leads.Leads_email_key",
            "+rel crm.Leads_email_key",
            "+col crm.Leads.tenant_id",
            "+con crm.Leads.Leads_tenant_id_fkey",
            "+con crm.Leads.leads_tenant_fk",
            "+con crm.Leads.Leads_tenant_id_email_key",
            "+rel crm.Leads_tenant_id_email_key",
            "+con crm.Leads.Leads_id_check",
        ]
    );
    assert_eq!(
        shown("CREATE TABLE p2024 PARTITION OF p (CONSTRAINT c CHECK (x > 0)) FOR VALUES IN (1)"),
        ["+rel p2024", "+con p2024.c", "?cols p2024"]
    );
    assert_eq!(
        shown(
            "CREATE TABLE c (LIKE t INCLUDING ALL); CREATE TABLE d AS SELECT 1 AS x; CREATE TEMP TABLE tmp (a int)"
        ),
        ["+rel c", "?cols c", "+rel d", "+col d.x"]
    );
}

#[test]
fn constraints_and_indexes_name_the_columns_they_use() {
    let deps: Vec<String> = of_file(
        "ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (a, b) REFERENCES u, ADD c int CHECK (c > d); \
         CREATE TABLE t2 (c int CHECK (c > d), d int, CHECK (d > 0)); \
         CREATE INDEX i ON t (lower(e)) WHERE f IS NULL",
    )
    .unwrap()
    .into_iter()
    .filter_map(|(_, e)| match e {
        Effect::Depends { object, columns } => Some(format!("{} on {}", obj(&object), columns.join(","))),
        _ => None,
    })
    .collect();
    assert_eq!(
        deps,
        [
            // `ALTER TABLE … ADD c int CHECK (c > d)`: whether `d` is a column (and so the
            // name `t_check` rather than `t_c_check`) is not known, so no name is given.
            "con t.t_fk on a,b",
            "con t2.t2_check on c,d",
            "con t2.t2_d_check on d",
            "rel i on lower,e,f,is,null"
        ]
    );
}

#[test]
fn implicit_names_are_shortened_as_postgres_shortens_them() {
    let long = "a".repeat(40);
    let name = table_elements::object_name(&long, &["b".repeat(40).as_str()], "key");
    assert_eq!(name.len(), 63);
    assert_eq!(name, format!("{}_{}_key", "a".repeat(29), "b".repeat(29)));
    assert_eq!(table_elements::object_name("t", &[], "pkey"), "t_pkey");
}

#[test]
fn alter_table_actions() {
    assert_eq!(
        shown(
            "ALTER TABLE ONLY leads ADD COLUMN IF NOT EXISTS email text UNIQUE, ADD score int, DROP COLUMN IF EXISTS old CASCADE, \
             ALTER COLUMN phone TYPE text, ADD CONSTRAINT leads_ok CHECK (score > 0) NOT VALID, DROP CONSTRAINT IF EXISTS x, \
             VALIDATE CONSTRAINT leads_ok"
        ),
        [
            "~col leads.email",
            "+con leads.leads_email_key",
            "+rel leads_email_key",
            "+col leads.score",
            "-col leads.old",
            "*col leads.phone",
            "+con leads.leads_ok",
            "-con leads.x",
            "*con leads.leads_ok",
        ]
    );
    assert_eq!(
        shown(
            "ALTER TABLE a RENAME TO b; ALTER TABLE b RENAME COLUMN x TO y; ALTER TABLE b RENAME CONSTRAINT c1 TO c2; ALTER TABLE b SET SCHEMA s"
        ),
        [
            "rel a->rel b",
            "col b.x->col b.y",
            "con b.c1->con b.c2",
            "rel b->rel s.b"
        ]
    );
    assert_eq!(
        shown(
            "ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY USING INDEX t_id_uniq; ALTER TABLE t ADD UNIQUE USING INDEX u"
        ),
        [
            "uses rel t_id_uniq",
            "rel t_id_uniq->rel t_pk",
            "+con t.t_pk",
            "uses rel u",
            "+con t.u"
        ]
    );
}

#[test]
fn indexes_views_types_functions_triggers() {
    assert_eq!(
        shown(
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx ON ONLY s.t (a) WHERE b; CREATE INDEX ON t (a); \
             CREATE OR REPLACE VIEW v AS SELECT 1; CREATE MATERIALIZED VIEW mv (a, b) AS SELECT 1, 2; \
             CREATE TYPE d AS ENUM ('in', 'it''s'); CREATE TYPE pair AS (a int); CREATE DOMAIN pos AS int CHECK (VALUE > 0); \
             CREATE OR REPLACE FUNCTION f(a int) RETURNS int AS $$ CREATE TABLE never (a int) $$ LANGUAGE sql; \
             CREATE TRIGGER trg BEFORE UPDATE OF a, b ON s.t FOR EACH ROW EXECUTE FUNCTION f(); \
             CREATE SCHEMA IF NOT EXISTS billing; CREATE EXTENSION citext; CREATE SEQUENCE seq"
        ),
        [
            "~rel s.idx",
            "+rel t_a_idx",
            "~rel v",
            "?cols v",
            "+rel mv",
            "+col mv.a",
            "+col mv.b",
            "+type d",
            "+enum d.in",
            "+enum d.it's",
            "+type pair",
            "+rel pair",
            "+type pos",
            "~fn f",
            "+trg s.t.trg",
            "~schema billing",
            "+ext citext",
            "+rel seq",
        ]
    );
    assert_eq!(
        shown(
            "ALTER TYPE d ADD VALUE IF NOT EXISTS 'out' AFTER 'in'; ALTER TYPE d RENAME VALUE 'in' TO 'inbound'; ALTER TYPE d RENAME TO dir; \
             ALTER FUNCTION f(int) RENAME TO g; ALTER FUNCTION g(int) SET search_path = public; ALTER TRIGGER trg ON t RENAME TO trg2; \
             ALTER INDEX IF EXISTS i RENAME TO j; ALTER VIEW v RENAME COLUMN a TO b; ALTER SCHEMA s RENAME TO s2"
        ),
        [
            "~enum d.out",
            "enum d.in->enum d.inbound",
            "type d->type dir",
            "fn f->fn g",
            "*fn g",
            "trg t.trg->trg t.trg2",
            "rel i->rel j",
            "col v.a->col v.b",
            "schema s->schema s2",
        ]
    );
}

#[test]
fn drops() {
    assert_eq!(
        shown(
            "DROP TABLE IF EXISTS a, s.b CASCADE; DROP INDEX CONCURRENTLY IF EXISTS i; DROP MATERIALIZED VIEW mv; \
             DROP FUNCTION IF EXISTS f(int), g(text, int); DROP TRIGGER IF EXISTS trg ON t; DROP TYPE d; \
             DROP SCHEMA s CASCADE; DROP EXTENSION IF EXISTS citext"
        ),
        [
            "-rel a",
            "-rel s.b",
            "-rel i",
            "-rel mv",
            "-fn f",
            "-fn g",
            "-trg t.trg",
            "-type d",
            "-schema s",
            "-ext citext",
        ]
    );
    assert_eq!(
        markers("DROP TABLE IF EXISTS a, s.b CASCADE; DROP TABLE c"),
        ["cascade rel a", "cascade rel s.b"]
    );
}

#[test]
fn names_postgres_chooses_are_marked() {
    assert_eq!(
        markers(
            "CREATE TABLE t (id serial PRIMARY KEY, a int UNIQUE); CREATE INDEX ON t (a); CREATE INDEX named ON t (a)"
        ),
        [
            "auto rel t_id_seq",
            "auto con t.t_pkey",
            "auto rel t_pkey",
            "auto con t.t_a_key",
            "auto rel t_a_key",
            "auto rel t_a_idx",
        ]
    );
}

#[test]
fn do_blocks_and_diesel_helpers() {
    assert_eq!(
        shown(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'dir') THEN CREATE TYPE dir AS ENUM ('a'); END IF; \
             EXECUTE 'CREATE TABLE hidden (a int)'; ALTER TABLE t ADD COLUMN c int; END $$; \
             SELECT diesel_manage_updated_at('users')"
        ),
        [
            "~type dir",
            "~enum dir.a",
            "~col t.c",
            "+trg users.set_updated_at"
        ]
    );
}
