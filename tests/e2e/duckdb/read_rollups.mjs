// Usage: node read_rollups.mjs ROLLUPS_DIR
// Prints, as JSON, what DuckDB reads from the rollup files as they are.
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, readdirSync } from 'node:fs';

const dir = process.argv[2];
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
const out = {
  codes: await rows(`SELECT * FROM read_csv_auto('${dir}/daily/*/codes.csv', hive_partitioning=1)
                     ORDER BY date, referrer_id, code`),
  channels: await rows(`SELECT * FROM read_csv_auto('${dir}/daily/*/channels.csv', hive_partitioning=1)
                        ORDER BY date, code, utm_source`),
  referrers: await rows(`SELECT * FROM read_csv_auto('${dir}/referrers.csv') ORDER BY referrer_id`),
  per_referrer: await rows(`SELECT referrer_id, sum(clicks) AS clicks
                            FROM read_csv_auto('${dir}/daily/*/codes.csv', hive_partitioning=1)
                            GROUP BY referrer_id ORDER BY referrer_id`),
};
// The conversion files (SPEC §6), where there are any.
if (readdirSync(`${dir}/daily`).some((d) => existsSync(`${dir}/daily/${d}/events.csv`))) {
  out.events = await rows(`SELECT * FROM read_csv_auto('${dir}/daily/*/events.csv', hive_partitioning=1)
                           ORDER BY event_id`);
}
if (existsSync(`${dir}/rewards.csv`)) {
  out.rewards = await rows(`SELECT * FROM read_csv_auto('${dir}/rewards.csv') ORDER BY referrer_id`);
}
console.log(JSON.stringify(out));
