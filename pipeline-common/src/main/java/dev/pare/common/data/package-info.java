/** In-memory example arrays, minibatch orders and the idx file reader. */
package dev.pare.common.data;
