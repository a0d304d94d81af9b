/** Small helpers shared by every package: name registries, seeds, array layouts. */
package dev.pare.common.util;
