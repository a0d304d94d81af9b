package dev.pare.common.train;

/**
 * The shape of one example's features before flattening: {@code channels × height × width} (an
 * image in NCHW order; a plain vector is {@code 1 × 1 × n}). Rows of the data hold the flattened
 * features in C order, which is also how DL4J's {@code InputType.convolutionalFlat} reads them.
 */
public record InputShape(int channels, int height, int width) {
    public InputShape {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("input shape must be positive, was [" + channels + ", " + height + ", "
                    + width + "]");
        }
    }

    /** Number of features of one example. */
    public long length() {
        return (long) channels * height * width;
    }

    @Override
    public String toString() {
        return "[" + channels + ", " + height + ", " + width + "]";
    }
}
