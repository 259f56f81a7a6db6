import FuzzDriver

// libFuzzer on FuzzHarness's "inspectors" target.
fuzz("inspectors")
