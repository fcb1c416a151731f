// Renders one run's report with the Allure library the command line is built on, as `allure generate
// allure-results -c allurerc.mjs` does; started in the run's folder. Node then loads a third less than for the
// whole command line (its other commands and their plugins).
import { AllureReport, readConfig } from "@allurereport/core";

try {
  const report = new AllureReport(await readConfig(process.cwd(), "allurerc.mjs"));
  await report.restoreState([]);
  await report.start();
  await report.readDirectory("allure-results");
  await report.done();
} catch (error) {
  console.error(`allure: ${error?.message ?? error}`);
  process.exitCode = 1;
}
