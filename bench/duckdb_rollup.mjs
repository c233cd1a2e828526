// DuckDB computing, from the clicks (and events) exported as CSV, every
// table `refgate compact` writes from the same records, and writing them
// out: codes.csv, channels.csv and referrers.csv of SPEC §5 with their
// distinct visitor counts and, when there are events, each sale attributed
// to the visitor's last non-bot click within 30 days (an ASOF join) with
// its 10% reward, as events.csv of §6 does by the visitor rule.
//   node duckdb_rollup.mjs DIR OUT_DIR
// DIR holds clicks.csv and events.csv (bench/loggen.cc); prints JSON totals.
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';

const [dir, out] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const t0 = performance.now();
await con.run(`CREATE TEMP TABLE c AS SELECT * FROM read_csv('${dir}/clicks.csv',
  header = true, auto_detect = true) WHERE type = 'click'`);
await con.run(`COPY (
    SELECT CAST(ts AS DATE) AS date, referrer_id, code,
           count(*) FILTER (WHERE NOT bot) AS clicks,
           count(DISTINCT visitor_id) FILTER (WHERE NOT bot) AS unique_visitors,
           count(*) FILTER (WHERE new_visitor AND NOT bot) AS new_visitors,
           count(*) FILTER (WHERE bot) AS bot_clicks
    FROM c GROUP BY ALL ORDER BY ALL) TO '${out}/codes.csv' (HEADER)`);
await con.run(`COPY (
    SELECT CAST(ts AS DATE) AS date, referrer_id, code, utm_source, utm_medium, utm_campaign,
           count(*) AS clicks, count(DISTINCT visitor_id) AS unique_visitors
    FROM c WHERE NOT bot GROUP BY ALL ORDER BY ALL) TO '${out}/channels.csv' (HEADER)`);
await con.run(`COPY (
    SELECT referrer_id, count(DISTINCT code) AS codes,
           count(*) FILTER (WHERE NOT bot) AS clicks,
           count(DISTINCT visitor_id) FILTER (WHERE NOT bot) AS unique_visitors,
           count(*) FILTER (WHERE bot) AS bot_clicks,
           min(ts) FILTER (WHERE NOT bot) AS first_click_at,
           max(ts) FILTER (WHERE NOT bot) AS last_click_at
    FROM c GROUP BY ALL ORDER BY ALL) TO '${out}/referrers.csv' (HEADER)`);
const eventLines = readFileSync(`${dir}/events.csv`, 'utf8').split('\n', 3);
const hasEvents = eventLines.length > 2 || (eventLines[1] ?? '') !== '';
if (hasEvents) await con.run(`COPY (
    SELECT e.event_id, t.referrer_id, t.code, e.amount_minor,
           CASE WHEN t.ts >= e.ts - INTERVAL 30 DAY THEN round_even(e.amount_minor * 0.1, 0)
                ELSE 0 END AS reward_minor,
           CASE WHEN t.ts >= e.ts - INTERVAL 30 DAY THEN 'attributed'
                ELSE 'unattributed' END AS status
    FROM read_csv('${dir}/events.csv', header = true, auto_detect = true,
                  types = {'visitor_id': 'VARCHAR', 'event_id': 'VARCHAR'}) e
    ASOF LEFT JOIN (SELECT * FROM c WHERE NOT bot) t
      ON e.visitor_id = t.visitor_id AND e.ts >= t.ts
    ORDER BY e.seq) TO '${out}/events.csv' (HEADER)`);
const seconds = (performance.now() - t0) / 1000;
const total = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson()[0];
console.log(JSON.stringify({
  seconds,
  ...(await total(`SELECT count(*) AS code_rows, sum(clicks) AS clicks FROM read_csv('${out}/codes.csv')`)),
  ...(await total(`SELECT count(*) AS channel_rows, sum(clicks) AS channel_clicks
                   FROM read_csv('${out}/channels.csv')`)),
  ...(await total(`SELECT sum(clicks) AS referrer_clicks FROM read_csv('${out}/referrers.csv')`)),
  attributed: hasEvents ? (await total(`SELECT count(*) FILTER (WHERE status = 'attributed') AS n
                   FROM read_csv('${out}/events.csv')`)).n : 0,
}));
