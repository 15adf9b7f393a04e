// Child process of bench/run.ts: an empty Node process, to show what starting the runtime costs.
process.stdout.write(JSON.stringify({ ms: 0, maxRssKiB: process.resourceUsage().maxRSS }));
