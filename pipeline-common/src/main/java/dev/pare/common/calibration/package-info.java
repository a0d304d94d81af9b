/**
 * Calibration statistics: small mergeable accumulators (sums in double precision with sample
 * counts) that Spark builds per partition and merges in partition order on the driver.
 */
package dev.pare.common.calibration;
