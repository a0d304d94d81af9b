package dev.pare.jobs.io;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.countDistinct;

import dev.pare.common.config.PareConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A Parquet table of examples ({@code id: long}, {@code features: array<float>},
 * {@code label: int}, column names from config), read and validated before any work starts.
 * Integer ids and double features are widened/narrowed to the canonical types; anything else is
 * refused with a message naming the file and column. The returned frame has the canonical
 * column names {@value #ID}, {@value #FEATURES}, {@value #LABEL}.
 */
public final class ExampleTable {
    public static final String ID = "id";
    public static final String FEATURES = "features";
    public static final String LABEL = "label";

    private ExampleTable() {}

    /**
     * Reads {@code uri} and checks its schema. {@code role} names the config key it came from
     * (e.g. {@code data.train}) for messages.
     */
    public static Dataset<Row> read(SparkSession spark, Files files, String uri, String role, PareConfig.Data d) {
        return read(spark, list(files, uri, role), role, d);
    }

    /**
     * {@code uri}'s path as {@link Files#listing} finds it: refused as bad input when it does not exist or
     * cannot be listed.
     */
    public static Files.Listing list(Files files, String uri, String role) {
        Path path = files.path(uri);
        Optional<Files.Listing> listing;
        try {
            listing = files.listing(path);
        } catch (IOException e) {
            throw new BadInputException(role + ": input " + path + " is not readable: " + e.getMessage(), e);
        } catch (BadInputException e) {
            throw e.in(role);
        }
        return listing.orElseThrow(() -> new BadInputException(role + ": input " + path + " does not exist"));
    }

    /** As above, for the table {@link #list} found. */
    public static Dataset<Row> read(SparkSession spark, Files.Listing listing, String role, PareConfig.Data d) {
        Path path = listing.path();
        if (!listing.hasDataFile()) {
            throw new BadInputException(role + ": " + path + " holds no Parquet files (only folders and hidden or"
                    + " '_' files): an unfinished or failed export?");
        }
        Dataset<Row> df;
        try {
            df = ParquetTables.read(spark, listing);
            df.schema();
        } catch (Exception e) {
            // Spark's inference reads a footer in a job: a corrupt file surfaces as a (checked) SparkException.
            throw new BadInputException(role + ": " + path + " is not a readable Parquet table: " + readFailure(e), e);
        }
        StructType schema = df.schema();
        checkColumn(schema, d.idColumn(), role, path, "a long (or int) id",
                t -> t.equals(DataTypes.LongType) || t.equals(DataTypes.IntegerType));
        checkColumn(schema, d.featuresColumn(), role, path, "array<float> (or array<double>) features",
                t -> t instanceof ArrayType a
                        && (a.elementType().equals(DataTypes.FloatType) || a.elementType().equals(DataTypes.DoubleType)));
        checkColumn(schema, d.labelColumn(), role, path, "an int label",
                t -> t.equals(DataTypes.IntegerType) || t.equals(DataTypes.LongType) || t.equals(DataTypes.ShortType)
                        || t.equals(DataTypes.ByteType));
        return df.select(
                col(quote(d.idColumn())).cast(DataTypes.LongType).as(ID),
                col(quote(d.featuresColumn())).cast(DataTypes.createArrayType(DataTypes.FloatType)).as(FEATURES),
                col(quote(d.labelColumn())).cast(DataTypes.IntegerType).as(LABEL));
    }

    private static String quote(String column) {
        return "`" + column.replace("`", "``") + "`";
    }

    private interface TypeRule {
        boolean accepts(DataType t);
    }

    private static void checkColumn(StructType schema, String name, String role, Path path, String expected,
                                    TypeRule rule) {
        StructField field = null;
        for (StructField f : schema.fields()) {
            if (f.name().equals(name)) {
                field = f;
            }
        }
        if (field == null) {
            throw new BadInputException(role + ": " + path + " has no column '" + name + "' (columns: "
                    + String.join(", ", schema.fieldNames()) + "); if it has another name, set data.id-column,"
                    + " data.features-column or data.label-column");
        }
        if (!rule.accepts(field.dataType())) {
            throw new BadInputException(role + ": " + path + " column '" + name + "' has type "
                    + field.dataType().simpleString() + ", expected " + expected);
        }
    }

    /** What {@link #validate} found. */
    public record Summary(long rows, long featureLength) {}

    /**
     * One pass over the table checking, per row: no nulls, feature length equals
     * {@code featureLength}, label in {@code [0, numClasses)}, no NaN/Inf feature; and that ids
     * are unique and the table is not empty. Throws naming the first offending row id (the
     * smallest). The pass is {@link ExampleChecks} over internal rows; the ids are proven unique in
     * the same pass when the table is in id order, and otherwise counted as {@link #judge} says.
     */
    public static Summary validate(Dataset<Row> df, String role, String uri, long featureLength, int numClasses) {
        return judge(reading(role, uri, () -> check(df, featureLength, numClasses)), df, role, uri);
    }

    /**
     * What {@link #validate} concludes from the checks of every row of {@code df}, made by {@link #validate}'s
     * own pass or by another pass that reads every row anyway (calibrate's sample): the summary, or a
     * {@link BadInputException} naming each problem and its first row. When the pass could not prove the ids
     * unique ({@link ExampleChecks#idsProvenUnique}), they are counted: by the checks' own count
     * ({@link ExampleChecks#countedIds()}) when it covers the rows checked, else from the id column read on the
     * driver ({@link DriverIds}) when the table is small, else in Spark jobs that read the id column alone.
     */
    public static Summary judge(ExampleChecks checks, Dataset<Row> df, String role, String uri) {
        long featureLength = checks.featureLength();
        int numClasses = checks.numClasses();
        long rows = checks.rows();
        String where = role + " (" + uri + ")";
        if (rows == 0) {
            throw new BadInputException(where + " is empty: no examples");
        }
        List<String> problems = new ArrayList<>();
        ExampleChecks.Offenders nulls = checks.nulls();
        if (nulls.count() > 0) {
            problems.add(nulls.count() + " row(s) with a null id, features or label (first id: " + nulls.firstId()
                    + ")");
        }
        ExampleChecks.Offenders badLength = checks.badLength();
        if (badLength.count() > 0) {
            problems.add(badLength.count() + " row(s) whose feature length is not " + featureLength
                    + " as the teacher expects (first: id " + badLength.firstId() + " has " + badLength.firstValue()
                    + ")");
        }
        ExampleChecks.Offenders badLabel = checks.badLabel();
        if (badLabel.count() > 0) {
            problems.add(badLabel.count() + " row(s) with a label outside [0, " + numClasses + ") (first: id "
                    + badLabel.firstId() + " has label " + badLabel.firstValue() + ")");
        }
        ExampleChecks.Offenders nonFinite = checks.nonFinite();
        if (nonFinite.count() > 0) {
            problems.add(nonFinite.count() + " row(s) with NaN or infinite features (first id: " + nonFinite.firstId()
                    + ")");
        }
        // Ids are counted for an otherwise valid table only: it has no null id (count(DISTINCT) skips nulls).
        if (problems.isEmpty() && !checks.idsProvenUnique()) {
            ExampleChecks.CountedIds ids = checks.countedIds();
            if (ids == null || ids.ids() != rows) {
                Optional<long[]> read = rows > DriverIds.MAX_IDS ? Optional.empty() : reading(role, uri,
                        () -> DriverIds.read(df.select(ID), DriverIds.MAX_IDS, DriverIds.MAX_FILES));
                ids = read.map(all -> ExampleChecks.CountedIds.of(all, all.length))
                        .filter(counted -> counted.ids() == rows).orElseGet(() -> countIds(df, role, uri, rows));
            }
            if (ids.distinct() != rows) {
                problems.add((rows - ids.distinct()) + " duplicate id(s) (first: id " + ids.firstRepeated()
                        + " appears " + ids.times() + " times): ids must be unique");
            }
        }
        if (!problems.isEmpty()) {
            throw new BadInputException(where + ": " + String.join("; ", problems));
        }
        return new Summary(rows, featureLength);
    }

    /** The {@code rows} ids of {@code df} counted in Spark jobs: the distinct ids, then the first repeated, if any. */
    private static ExampleChecks.CountedIds countIds(Dataset<Row> df, String role, String uri, long rows) {
        long distinct = reading(role, uri, () -> df.select(ID).agg(countDistinct(ID)).first().getLong(0));
        if (distinct == rows) {
            return new ExampleChecks.CountedIds(rows, distinct, 0, 0);
        }
        Row dup = reading(role, uri, () -> df.select(ID).groupBy(ID).count().filter("count > 1").orderBy(ID).first());
        return new ExampleChecks.CountedIds(rows, distinct, dup.getLong(0), dup.getLong(1));
    }

    /**
     * The checks of every partition of {@code df} (canonical columns), merged in partition order. Rows
     * are read in Spark's internal form, as {@code dev.pare.jobs.spark.Rows.internal} reads them (that
     * package depends on this one, not the reverse): features unboxed, file scans split for compute.
     */
    private static ExampleChecks check(Dataset<Row> df, long featureLength, int numClasses) {
        Dataset<Row> columns = df.select(ID, FEATURES, LABEL);
        JavaRDD<InternalRow> internal = ColumnarScan.rows(columns, featureLength);
        List<ExampleChecks> parts = internal.mapPartitions(rows -> {
            ExampleChecks part = new ExampleChecks(featureLength, numClasses);
            rows.forEachRemaining(part::add);
            return List.of(part).iterator();
        }).collect();
        ExampleChecks all = new ExampleChecks(featureLength, numClasses);
        parts.forEach(all::merge);
        return all;
    }

    /**
     * The feature length of the table's first row (Spark's -1 for null features), empty when the
     * table is; a file that cannot be read is refused as {@link #validate} does.
     */
    public static java.util.OptionalInt firstFeatureLength(Dataset<Row> df, String role, String uri) {
        Row first = reading(role, uri, () -> df.selectExpr("size(" + FEATURES + ")").first());
        return first == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(first.getInt(0));
    }

    /**
     * Runs {@code job} over table {@code uri}: a job that fails on a file it reads throws a
     * {@link BadInputException} naming the file; any other failure, checked or not, propagates as it is.
     */
    public static <T> T reading(String role, String uri, Callable<T> job) {
        try {
            return job.call();
        } catch (Exception e) {
            if (!isReadFailure(e)) {
                throw sneaky(e);
            }
            throw new BadInputException(role + ": " + uri + " is not a readable Parquet table: " + readFailure(e), e);
        }
    }

    /** Any path or URI in an exception message, e.g. {@code file:/data/train.parquet/part-00001.parquet}. */
    private static final Pattern FILE_URI = Pattern.compile("[a-zA-Z][a-zA-Z0-9+.-]*:/[^\\s,;'\"\\]})]+");

    /**
     * True when a failed Spark job failed on a file it read: Parquet's own errors, or Spark's
     * "Encountered error while reading file".
     */
    private static boolean isReadFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = String.valueOf(t.getMessage());
            if (t.getClass().getName().startsWith("org.apache.parquet.") || m.contains("is not a Parquet file")
                    || m.contains("while reading file") || t instanceof java.io.EOFException) {
                return true;
            }
        }
        return false;
    }

    /** The innermost cause's first line, prefixed by the innermost file named along the chain if it lacks one. */
    private static String readFailure(Throwable e) {
        String file = null;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            Matcher m = FILE_URI.matcher(String.valueOf(t.getMessage()));
            if (m.find()) {
                file = m.group().replaceAll("[.:]+$", "");
            }
        }
        String root = rootMessage(e);
        return file == null || root.contains(file) ? root : file + ": " + root;
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
        throw (T) t;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }
}
