/**
 * Model surgery: turning scores and masks into a pruned network, and keeping masked weights at
 * zero while it trains.
 */
package dev.pare.common.surgery;
