/** Small helpers shared by every package: name registries. */
package dev.pare.common.util;
