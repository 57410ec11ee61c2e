// Run one Node recipe of docs/sdk-recipes.md once per scenario, each in its own worker thread
// (own process.env, own module cache, process.exit ends only the worker), all at once.
// The CA (NODE_EXTRA_CA_CERTS) and NODE_PATH come from this process's environment, as for a user.
//   node tests/sdk_recipe_driver.js RECIPE_FILE SCENARIOS_JSON  ->  one JSON line per scenario
const fs = require("fs");
const { Worker } = require("worker_threads");

const code = fs.readFileSync(process.argv[2], "utf8");
const scenarios = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));

function run(name, variables) {
  return new Promise((resolve) => {
    const worker = new Worker(code, { eval: true, env: { ...process.env, ...variables }, stdout: true, stderr: true });
    let output = "";
    worker.stdout.on("data", (chunk) => (output += chunk));
    worker.stderr.on("data", (chunk) => (output += chunk));
    worker.on("error", (error) => (output += `${error && error.stack}\n`));
    worker.on("exit", (status) => resolve({ scenario: name, status, output }));
  });
}

Promise.all(Object.entries(scenarios).map(([name, variables]) => run(name, variables))).then((results) => {
  for (const result of results) console.log(JSON.stringify(result));
});
