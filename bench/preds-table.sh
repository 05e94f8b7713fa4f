# Sourced by bench/pushdown.sh and bench/cluster.sh: `preds_table PG ROWS` creates (once) and
# names the table lunli_bench.preds_ROWS of ROWS predictions for ROWS people: a name and an
# identifier per row (what must never leave the data's place), two sensitive attributes (2 and
# 5 groups), a label, a score to three decimals and the prediction it gives. OFFSET 0 keeps
# each row's random draws together (no subquery pull-up). Seeded: the same rows every time.
preds_table() {
    local pg="$1" rows="$2" table="lunli_bench.preds_$2"
    if [ "$(psql -X -Atc "SELECT to_regclass('$table') IS NOT NULL" "$pg")" != t ]; then
        echo "bench: generating $rows rows in $table (once)" >&2
        psql -X -q -v ON_ERROR_STOP=1 "$pg" >/dev/null <<SQL
CREATE SCHEMA IF NOT EXISTS lunli_bench;
SELECT setseed(0.42);
CREATE UNLOGGED TABLE $table AS
SELECT id, name, sex, race, y_true, score, (score >= 0.5)::int AS y_pred
FROM (
    SELECT i AS id,
           'person-' || i AS name,
           CASE WHEN random() < 0.48 THEN 'Female' ELSE 'Male' END AS sex,
           (ARRAY['White','Black','Asian-Pac-Islander','Amer-Indian-Eskimo','Other'])[1 + floor(random() * 5)::int] AS race,
           (random() < 0.3)::int AS y_true,
           round(random()::numeric, 3)::float8 AS score
    FROM generate_series(1, $rows) AS i
    OFFSET 0
) AS drawn;
ANALYZE $table;
SQL
    fi
    echo "$table"
}
