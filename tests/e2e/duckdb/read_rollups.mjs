// Usage: node read_rollups.mjs ROLLUPS_DIR
// Prints, as JSON, what DuckDB reads from the rollup files as they are.
import { DuckDBInstance } from '@duckdb/node-api';

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
console.log(JSON.stringify(out));
