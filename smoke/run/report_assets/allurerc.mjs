// Allure 3 configuration for one run of keyfactor-smoke, written next to that run's raw results.
// Render (again) from the suite's folder:  npx allure generate <run>/allure-results -c <run>/allurerc.mjs
// ALLURE_NO_ANALYTICS=true keeps the report free of any external script; the suite always sets it.
export default /*CONFIG*/;
