// DuckDB computing the per-code daily aggregates of codes.csv from the
// clicks exported as CSV, and writing them out, as compaction does.
//   node duckdb_rollup.mjs CLICKS_CSV OUT_CSV
import { DuckDBInstance } from '@duckdb/node-api';

const [csvPath, outPath] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const t0 = performance.now();
await con.run(`
  COPY (
    SELECT CAST(ts AS DATE) AS date, referrer_id, code,
           count(*) FILTER (WHERE NOT bot) AS clicks,
           count(DISTINCT visitor_id) FILTER (WHERE NOT bot) AS unique_visitors,
           count(*) FILTER (WHERE new_visitor AND NOT bot) AS new_visitors,
           count(*) FILTER (WHERE bot) AS bot_clicks
    FROM read_csv('${csvPath}', header = true, auto_detect = true)
    WHERE type = 'click'
    GROUP BY ALL ORDER BY ALL
  ) TO '${outPath}' (HEADER)`);
const rows = (await con.runAndReadAll(
  `SELECT count(*) AS n, sum(clicks) AS clicks FROM read_csv('${outPath}')`)).getRowObjectsJson();
console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, ...rows[0] }));
