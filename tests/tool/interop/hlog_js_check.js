// Reads an HdrHistogram interval log with hdr-histogram-js (a reader that
// ringsock did not write) and prints, per tag, the intervals added together:
//   TAG INTERVALS COUNT P50 P90 P99 P99.9 P99.99 MIN MAX
// Usage: NODE_PATH=<dir>/node_modules node hlog_js_check.js FILE.hlog
"use strict";
const fs = require("fs");
const hdr = require("hdr-histogram-js");

const text = fs.readFileSync(process.argv[2], "utf8");
const reader = new hdr.HistogramLogReader(text, 64);
const totals = new Map();
for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
  let entry = totals.get(h.tag);
  if (!entry) {
    entry = {
      intervals: 0,
      sum: hdr.build({
        lowestDiscernibleValue: 1,
        highestTrackableValue: h.highestTrackableValue,
        numberOfSignificantValueDigits: 3,
        bitBucketSize: 64,
      }),
    };
    totals.set(h.tag, entry);
  }
  entry.intervals += 1;
  entry.sum.add(h);
}
for (const [tag, { intervals, sum }] of totals) {
  const p = (q) => sum.getValueAtPercentile(q);
  console.log([tag, intervals, sum.totalCount, p(50), p(90), p(99), p(99.9), p(99.99),
               sum.minNonZeroValue, sum.maxValue].join(" "));
}
