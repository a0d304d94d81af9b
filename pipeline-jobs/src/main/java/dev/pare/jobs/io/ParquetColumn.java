package dev.pare.jobs.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.apache.parquet.bytes.ByteBufferInputStream;
import org.apache.parquet.bytes.BytesUtils;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.Dictionary;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.column.ValuesType;
import org.apache.parquet.column.page.DataPage;
import org.apache.parquet.column.page.DataPageV1;
import org.apache.parquet.column.page.DataPageV2;
import org.apache.parquet.column.page.DictionaryPage;
import org.apache.parquet.column.page.PageReader;
import org.apache.parquet.column.values.ValuesReader;
import org.apache.parquet.column.values.bitpacking.BytePacker;
import org.apache.parquet.column.values.bitpacking.Packer;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.spark.sql.execution.vectorized.WritableColumnVector;

/**
 * One column chunk of a Parquet row group, decoded a page at a time into Spark column vectors: a
 * flat {@code long} or {@code int} column, or a list of {@code float}s (one repetition level), the
 * three kinds of an example table. What {@link ParquetExampleScan} reads instead of Spark's
 * vectorized reader, whose assembly of lists from their levels costs about 25 ns per float.
 *
 * <p>Levels and dictionary ids in the RLE/bit-packed hybrid encoding, plain values and dictionaries
 * are decoded here in bulk; a page in any other encoding (delta, byte-stream-split, legacy
 * bit-packed levels) is read through parquet-mr's own value readers, one value at a time. A list
 * may span pages. Null lists, empty lists and null elements are read as Spark reads them.
 */
final class ParquetColumn {
    /** The vector type a column is read into. */
    enum Kind {
        LONG, INT, FLOAT_LIST
    }

    private final ColumnDescriptor column;
    private final PageReader pages;
    private final Kind kind;
    /** INT32 values read as unsigned (a {@code UINT_32} column read as long). */
    private final boolean unsigned;
    /** The column is stored as INT64 (a LONG column may also be INT32, widened). */
    private final boolean int64;
    private final int maxRep;
    private final int maxDef;
    /** A list entry's lowest definition level when the list holds it: lower is an empty or null list. */
    private final int elementDef;
    /** The list's own definition level: lower is a null list. */
    private final int listDef;
    private boolean dictionaryRead;
    private Dictionary dictionary;
    private long[] longDict;
    private int[] intDict;
    private float[] floatDict;

    // The current page: where its rows start (the entries at repetition level 0, lists only), its
    // definition levels (unless every entry is at the maximum), and its non-null values in order.
    private int[] starts = new int[0];
    private int startCount;
    private int nextStart;
    private int[] def = new int[0];
    private int entries;
    private int pos;
    /** Every entry of the page is at the maximum definition level: {@link #def} is not decoded. */
    private boolean noNulls;
    private long[] longs = new long[0];
    private int[] ints = new int[0];
    private float[] floats = new float[0];
    private int[] ids = new int[0];
    private int valuePos;

    /**
     * @param elementDef for a list, the definition level of its repeated field; ignored otherwise
     * @param listDef for a list, the definition level of the list itself (0 when required)
     */
    ParquetColumn(ColumnDescriptor column, PageReader pages, Kind kind, boolean unsigned, int elementDef, int listDef) {
        this(column, pages, kind, unsigned, elementDef, listDef, null);
    }

    /**
     * As above, decoding into the page-sized arrays of {@code previous} (null: new ones), the chunk of
     * the previous row group of the same scan column, which is done with them: a scan's row groups take
     * turns in one set of arrays. New ones for each row group were 175 MB of garbage in a scan of
     * Fashion-MNIST's 60k rows, a pass over fresh memory for every page.
     */
    ParquetColumn(ColumnDescriptor column, PageReader pages, Kind kind, boolean unsigned, int elementDef, int listDef,
                  ParquetColumn previous) {
        if (previous != null) {
            starts = previous.starts;
            def = previous.def;
            longs = previous.longs;
            ints = previous.ints;
            floats = previous.floats;
            ids = previous.ids;
        }
        this.column = column;
        this.pages = pages;
        this.kind = kind;
        this.unsigned = unsigned;
        this.int64 = column.getPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.INT64;
        this.maxRep = column.getMaxRepetitionLevel();
        this.maxDef = column.getMaxDefinitionLevel();
        this.elementDef = elementDef;
        this.listDef = listDef;
    }

    /** Reads the next {@code rows} rows into rows {@code at..at+rows-1} of {@code out}. */
    void read(int rows, WritableColumnVector out, int at) throws IOException {
        if (kind == Kind.FLOAT_LIST) {
            for (int r = 0; r < rows; r++) {
                readList(out, at + r);
            }
            return;
        }
        int done = 0;
        while (done < rows) {
            if (pos == entries && !nextPage()) {
                throw new IOException(column + ": the column chunk ended after " + done + " of " + rows + " rows");
            }
            int n = Math.min(rows - done, entries - pos);
            int row = at + done;
            if (noNulls) {
                if (kind == Kind.LONG) {
                    out.putLongs(row, n, longs, valuePos);
                } else {
                    out.putInts(row, n, ints, valuePos);
                }
                valuePos += n;
            } else {
                for (int i = 0; i < n; i++) {
                    if (def[pos + i] == maxDef) {
                        if (kind == Kind.LONG) {
                            out.putLong(row + i, longs[valuePos++]);
                        } else {
                            out.putInt(row + i, ints[valuePos++]);
                        }
                    } else {
                        out.putNull(row + i);
                    }
                }
            }
            pos += n;
            done += n;
        }
    }

    /** One list: its entries up to the next that starts a row (repetition level 0), across pages. */
    private void readList(WritableColumnVector out, int row) throws IOException {
        if (pos == entries && !nextPage()) {
            throw new IOException(column + ": the column chunk ended before the row group's last row");
        }
        if (nextStart == startCount || starts[nextStart] != pos) {
            throw new IOException(column + ": a row starts inside a list (an entry at repetition level above 0)");
        }
        nextStart++;
        WritableColumnVector child = out.arrayData();
        int start = child.getElementsAppended();
        int level = noNulls ? maxDef : def[pos];
        if (level < elementDef) {
            // One entry for the whole row: a null list (below the list's level) or an empty one.
            if (level < listDef) {
                out.putNull(row);
            } else {
                out.putArray(row, start, 0);
            }
            pos++;
            return;
        }
        int appended = start;
        while (true) {
            if (pos == entries && !nextPage()) {
                break;
            }
            // The row ends where the next one starts, or goes on in the next page.
            int end = nextStart < startCount ? starts[nextStart] : entries;
            if (end == pos) {
                break;
            }
            int n = end - pos;
            child.reserve(appended + n);
            if (noNulls) {
                child.putFloats(appended, n, floats, valuePos);
                valuePos += n;
            } else {
                for (int i = pos; i < end; i++) {
                    if (def[i] == maxDef) {
                        child.putFloat(appended + i - pos, floats[valuePos++]);
                    } else {
                        child.putNull(appended + i - pos);
                    }
                }
            }
            appended += n;
            pos = end;
            if (pos < entries) {
                break;
            }
        }
        child.addElementsAppended(appended - start);
        out.putArray(row, start, appended - start);
    }

    /** Decodes the next data page; false at the chunk's end. */
    private boolean nextPage() throws IOException {
        if (!dictionaryRead) {
            readDictionary();
            dictionaryRead = true;
        }
        DataPage page = pages.readPage();
        if (page == null) {
            return false;
        }
        int n = page.getValueCount();
        entries = n;
        pos = 0;
        valuePos = 0;
        nextStart = 0;
        if (kind == Kind.FLOAT_LIST && starts.length < n) {
            starts = new int[n];
        }
        ByteBuffer values;
        Encoding encoding;
        if (page instanceof DataPageV1 v1) {
            ByteBufferInputStream in = ByteBufferInputStream.wrap(v1.getBytes().toByteBuffer());
            if (maxRep > 0) {
                startCount = levels(in, v1.getRlEncoding(), maxRep, ValuesType.REPETITION_LEVEL, n, true);
            }
            levels(in, v1.getDlEncoding(), maxDef, ValuesType.DEFINITION_LEVEL, n, false);
            values = in.slice((int) in.available());
            encoding = v1.getValueEncoding();
        } else if (page instanceof DataPageV2 v2) {
            if (maxRep > 0) {
                startCount = hybrid(v2.getRepetitionLevels().toByteBuffer(),
                        BytesUtils.getWidthFromMaxInt(maxRep), starts, n, true);
            }
            definitions(v2.getDefinitionLevels().toByteBuffer(), n);
            values = v2.getData().toByteBuffer();
            encoding = v2.getDataEncoding();
        } else {
            throw new IOException(column + ": unknown page type " + page.getClass().getName());
        }
        int present = n;
        if (!noNulls) {
            present = 0;
            for (int i = 0; i < n; i++) {
                if (def[i] == maxDef) {
                    present++;
                }
            }
            noNulls = present == n;
        }
        values(values.order(ByteOrder.LITTLE_ENDIAN), encoding, present);
        return true;
    }

    private void readDictionary() throws IOException {
        DictionaryPage page = pages.readDictionaryPage();
        if (page == null) {
            return;
        }
        dictionary = page.getEncoding().initDictionary(column, page);
        int size = dictionary.getMaxId() + 1;
        switch (kind) {
            case LONG -> {
                longDict = new long[size];
                for (int i = 0; i < size; i++) {
                    longDict[i] = int64 ? dictionary.decodeToLong(i) : widen(dictionary.decodeToInt(i));
                }
            }
            case INT -> {
                intDict = new int[size];
                for (int i = 0; i < size; i++) {
                    intDict[i] = dictionary.decodeToInt(i);
                }
            }
            case FLOAT_LIST -> {
                floatDict = new float[size];
                for (int i = 0; i < size; i++) {
                    floatDict[i] = dictionary.decodeToFloat(i);
                }
            }
        }
    }

    private long widen(int v) {
        return unsigned ? Integer.toUnsignedLong(v) : v;
    }

    /** The page's {@code count} non-null values, into this column's value array. */
    private void values(ByteBuffer data, Encoding encoding, int count) throws IOException {
        switch (kind) {
            case LONG -> longs = longs.length >= count ? longs : new long[count];
            case INT -> ints = ints.length >= count ? ints : new int[count];
            case FLOAT_LIST -> floats = floats.length >= count ? floats : new float[count];
        }
        if (encoding.usesDictionary()) {
            if (dictionary == null) {
                throw new IOException(column + ": a dictionary-encoded page without a dictionary page");
            }
            if (kind == Kind.FLOAT_LIST) {
                try {
                    lookUp(data, floatDict, floats, count);
                } catch (IOException | RuntimeException e) {
                    throw new IOException(column + ": " + e.getMessage(), e);
                }
                return;
            }
            ids = ids.length >= count ? ids : new int[count];
            if (count > 0) {
                int width = data.get() & 0xff;
                hybrid(data, width, ids, count, false);
            }
            int size = dictionary.getMaxId() + 1;
            for (int i = 0; i < count; i++) {
                if (ids[i] < 0 || ids[i] >= size) {
                    throw new IOException(column + ": " + outsideDictionary(ids[i], size));
                }
            }
            // Float lists were looked up above.
            if (kind == Kind.LONG) {
                for (int i = 0; i < count; i++) {
                    longs[i] = longDict[ids[i]];
                }
            } else {
                for (int i = 0; i < count; i++) {
                    ints[i] = intDict[ids[i]];
                }
            }
            return;
        }
        if (encoding == Encoding.PLAIN) {
            switch (kind) {
                case LONG -> {
                    if (int64) {
                        data.asLongBuffer().get(longs, 0, count);
                    } else {
                        for (int i = 0; i < count; i++) {
                            longs[i] = widen(data.getInt(data.position() + 4 * i));
                        }
                    }
                }
                case INT -> data.asIntBuffer().get(ints, 0, count);
                case FLOAT_LIST -> data.asFloatBuffer().get(floats, 0, count);
            }
            return;
        }
        ValuesReader reader = encoding.getValuesReader(column, ValuesType.VALUES);
        reader.initFromPage(count, ByteBufferInputStream.wrap(data));
        for (int i = 0; i < count; i++) {
            switch (kind) {
                case LONG -> longs[i] = int64 ? reader.readLong() : widen(reader.readInteger());
                case INT -> ints[i] = reader.readInteger();
                case FLOAT_LIST -> floats[i] = reader.readFloat();
            }
        }
    }

    /**
     * A dictionary-encoded page's {@code count} values ({@code in} at the ids' bit width, then the ids in
     * the hybrid encoding) into {@code out}, each looked up in {@code dictionary} as its id is decoded, run
     * by run: one pass over the page, where decoding the ids into an array, checking them and looking them up
     * took three over arrays of the page's size. Ids of 8 bits (dictionaries of 129 to 256 values, as 8-bit
     * pixels give) are read as bytes, without the bit unpacker.
     */
    static void lookUp(ByteBuffer in, float[] dictionary, float[] out, int count) throws IOException {
        if (count == 0) {
            return;
        }
        int width = in.get() & 0xff;
        if (width == 0) {
            // A dictionary of one value: every id is 0, and none is stored.
            Arrays.fill(out, 0, count, dictionary[inside(0, dictionary)]);
            return;
        }
        if (width > 32) {
            throw new IOException("dictionary ids of " + width + " bits");
        }
        BytePacker packer = Packer.LITTLE_ENDIAN.newBytePacker(width);
        int[] eight = new int[8];
        int k = 0;
        while (k < count) {
            if (!in.hasRemaining()) {
                throw new IOException("dictionary ids end after " + k + " of " + count + " values");
            }
            int header = unsignedVarInt(in);
            if ((header & 1) == 0) {
                int m = Math.min(header >>> 1, count - k);
                Arrays.fill(out, k, k + m, dictionary[inside(runValue(in, width), dictionary)]);
                k += m;
                continue;
            }
            int groups = packedGroups(in, header, width);
            int m = Math.min(groups * 8, count - k);
            if (width == 8 && in.hasArray()) {
                byte[] bytes = in.array();
                int from = in.arrayOffset() + in.position();
                for (int i = 0; i < m; i++) {
                    out[k + i] = dictionary[inside(bytes[from + i] & 0xff, dictionary)];
                }
            } else {
                for (int g = 0; g * 8 < m; g++) {
                    packer.unpack8Values(in, in.position() + g * width, eight, 0);
                    for (int i = 0; i < Math.min(8, m - g * 8); i++) {
                        out[k + g * 8 + i] = dictionary[inside(eight[i], dictionary)];
                    }
                }
            }
            k += m;
            in.position(in.position() + groups * width);
        }
    }

    /** {@code id}, when {@code dictionary} has it. */
    private static int inside(int id, float[] dictionary) throws IOException {
        if (id < 0 || id >= dictionary.length) {
            throw new IOException(outsideDictionary(id, dictionary.length));
        }
        return id;
    }

    private static String outsideDictionary(int id, int size) {
        return "dictionary id " + id + " outside the dictionary's " + size;
    }

    /**
     * A data page v1's repetition levels (as the row starts, {@code rowStarts}; returns their number) or
     * definition levels: none stored when {@code max} is 0; RLE through {@link #hybrid}, else parquet-mr's
     * reader.
     */
    private int levels(ByteBufferInputStream in, Encoding encoding, int max, ValuesType type, int n, boolean rowStarts)
            throws IOException {
        if (encoding == Encoding.RLE && max > 0) {
            int length = BytesUtils.readIntLittleEndian(in);
            ByteBuffer levels = in.slice(length);
            if (rowStarts) {
                return hybrid(levels, BytesUtils.getWidthFromMaxInt(max), starts, n, true);
            }
            definitions(levels, n);
            return n;
        }
        if (max == 0) {
            noNulls = true;
            return n;
        }
        int[] out = new int[n];
        ValuesReader reader = encoding.getValuesReader(column, type);
        reader.initFromPage(n, in);
        for (int i = 0; i < n; i++) {
            out[i] = reader.readInteger();
        }
        if (!rowStarts) {
            def = out;
            noNulls = false;
            return n;
        }
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (out[i] == 0) {
                starts[count++] = i;
            }
        }
        return count;
    }

    /**
     * The page's {@code n} definition levels in the hybrid encoding: when one run holds them all at the
     * maximum, only {@link #noNulls} is set (most example tables: no nulls anywhere); else decoded.
     */
    private void definitions(ByteBuffer in, int n) throws IOException {
        int width = BytesUtils.getWidthFromMaxInt(maxDef);
        noNulls = width == 0 || uniform(in, width, n) == maxDef;
        if (!noNulls) {
            if (def.length < n) {
                def = new int[n];
            }
            hybrid(in, width, def, n, false);
        }
    }

    /**
     * The value of {@code n} values in the hybrid encoding at {@code in}'s position when their first run
     * is a run of one value that holds all of them, else -1; {@code in} is left as it was.
     */
    static int uniform(ByteBuffer in, int bitWidth, int n) throws IOException {
        ByteBuffer b = in.duplicate();
        if (!b.hasRemaining()) {
            return -1;
        }
        int header = unsignedVarInt(b);
        if ((header & 1) != 0 || header >>> 1 < n) {
            return -1;
        }
        return runValue(b, bitWidth);
    }

    /**
     * Decodes {@code n} values of Parquet's RLE/bit-packed hybrid encoding at {@code bitWidth} bits
     * from {@code in}'s position: runs of one value are filled, bit-packed groups unpacked 8 at a time.
     * With {@code zeros}, {@code out} gets the positions of the zeros instead (a list's row starts:
     * repetition level 0), in order, and the result is their number; else the result is {@code n}.
     */
    static int hybrid(ByteBuffer in, int bitWidth, int[] out, int n, boolean zeros) throws IOException {
        if (bitWidth == 0) {
            if (zeros) {
                for (int i = 0; i < n; i++) {
                    out[i] = i;
                }
            } else {
                Arrays.fill(out, 0, n, 0);
            }
            return n;
        }
        BytePacker packer = Packer.LITTLE_ENDIAN.newBytePacker(bitWidth);
        int k = 0;
        int found = 0;
        int[] last = null;
        while (k < n) {
            if (!in.hasRemaining()) {
                throw new IOException("RLE/bit-packed levels or ids end after " + k + " of " + n + " values");
            }
            int header = unsignedVarInt(in);
            if ((header & 1) == 0) {
                int value = runValue(in, bitWidth);
                int m = Math.min(header >>> 1, n - k);
                if (!zeros) {
                    Arrays.fill(out, k, k + m, value);
                } else if (value == 0) {
                    for (int i = k; i < k + m; i++) {
                        out[found++] = i;
                    }
                }
                k += m;
            } else {
                int groups = packedGroups(in, header, bitWidth);
                for (int g = 0; g < groups && k < n; g++) {
                    if (k + 8 <= n && !zeros) {
                        packer.unpack8Values(in, in.position() + g * bitWidth, out, k);
                        k += 8;
                    } else {
                        if (last == null) {
                            last = new int[8];
                        }
                        packer.unpack8Values(in, in.position() + g * bitWidth, last, 0);
                        int m = Math.min(8, n - k);
                        if (zeros) {
                            for (int i = 0; i < m; i++) {
                                if (last[i] == 0) {
                                    out[found++] = k + i;
                                }
                            }
                        } else {
                            System.arraycopy(last, 0, out, k, m);
                        }
                        k += m;
                    }
                }
                in.position(in.position() + groups * bitWidth);
            }
        }
        return zeros ? found : n;
    }

    /** The value of a run of one value (its header read): {@code bitWidth} rounded up to bytes, little-endian. */
    private static int runValue(ByteBuffer in, int bitWidth) {
        int value = 0;
        for (int i = 0; i < (bitWidth + 7) / 8; i++) {
            value |= (in.get() & 0xff) << (8 * i);
        }
        return value;
    }

    /** The groups of 8 values of a bit-packed run with {@code header}, refused when they overrun the page. */
    private static int packedGroups(ByteBuffer in, int header, int bitWidth) throws IOException {
        int groups = header >>> 1;
        if ((long) groups * bitWidth > in.remaining()) {
            throw new IOException("a bit-packed run of " + groups + " groups overruns its page");
        }
        return groups;
    }

    private static int unsignedVarInt(ByteBuffer in) throws IOException {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = in.get() & 0xff;
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new IOException("a malformed run header");
    }
}
