/** The run report: report.json assembled by the report stage, rendered here as one HTML page. */
package dev.pare.common.report;
