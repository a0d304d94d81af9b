package dev.pare.jobs.stages;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.xxhash64;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.config.PareConfig;
import dev.pare.common.datapruning.SelectionBudgets;
import dev.pare.common.datapruning.SelectionMethod;
import dev.pare.common.util.Seeds;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.io.ParquetTables;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageDir;
import dev.pare.jobs.stage.StageRunner;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.collection.JavaConverters;

/**
 * {@code select-data}: keeps {@code max(1, floor(f·N))} examples by a {@link SelectionMethod}
 * (random, hardest, easiest, ccs), optionally class-balanced. A score table of up to
 * {@link #DRIVER_ROWS} rows is selected on the driver ({@link DriverScores}); for a larger one, ranking
 * and sampling are Spark sorts and window functions, and only per-class (and per-stratum) counts come
 * back to the driver. Both routes keep the same rows. Writes the kept ids and a report with per-class
 * counts and the score histogram of kept vs all.
 */
public final class SelectDataStage implements Stage {
    public static final String FOLDER = "subset";
    public static final String TABLE = "ids.parquet";
    public static final String REPORT = "selection.json";

    @Override
    public String name() {
        return "select-data";
    }

    /** Ranks ids by the scores table: no network on the driver. */
    @Override
    public boolean networksOnDriver() {
        return false;
    }

    @Override
    public String folder() {
        return FOLDER;
    }

    @Override
    public List<String> identity(RunContext ctx) throws Exception {
        return List.of("seed=" + ctx.config().seed(), "selection=" + ctx.config().renderSection("selection"),
                StageRunner.upstream(ctx, ScoreDataStage.FOLDER, "score-data"));
    }

    @Override
    public void validate(RunContext ctx) {
        // Inputs are the finished example-scores folder, checked by identity().
    }

    /** Kept count for {@code n} examples at fraction {@code f}: {@code max(1, floor(f·n))}. */
    public static long keptCount(long n, double f) {
        return SelectionBudgets.keptCount(n, f);
    }

    private static final String HARD = "_pare_hardness";
    private static final String KEY = "_pare_order";
    private static final String GROUP = "_pare_group";
    private static final String STRATUM = "_pare_stratum";
    private static final String RANK = "_pare_rank";
    private static final String BUDGET = "_pare_budget";
    private static final String SCORE = "_pare_score";
    private static final String KEPT = "_pare_kept";

    /**
     * The kept rows of {@code scores} (columns id, label and the score columns): exactly
     * {@code keep} of them (or all when fewer). Ranking, grouping and sampling run in Spark; only
     * per-group (and per-stratum) counts come to the driver, to compute budgets.
     */
    public static Dataset<Row> select(Dataset<Row> scores, PareConfig.Selection sel, long seed, long keep) {
        Column hardness = sel.score().harderWhenLarger() ? col(sel.score().configName())
                : col(sel.score().configName()).multiply(-1.0);
        Dataset<Row> pool = scores.withColumn(HARD, hardness)
                .withColumn(GROUP, sel.classBalanced() ? col("label") : lit(0));
        Column random = xxhash64(col("id"), lit(Seeds.derive(seed, "select-" + sel.method().configName(), 0)));
        if (sel.method() == SelectionMethod.CCS && sel.ccsDropHardest() > 0) {
            // Drop the hardest β of each group (of the whole set when not class-balanced) as likely label noise.
            Map<Integer, Long> sizes = counts(pool, GROUP);
            if (!sel.classBalanced()) {
                long drop = (long) Math.floor(sel.ccsDropHardest() * sizes.getOrDefault(0, 0L) + 1e-9);
                Dataset<Row> hardest = pool.orderBy(col(HARD).desc(), col("id")).limit((int) drop).select("id");
                pool = pool.join(hardest, pool.col("id").equalTo(hardest.col("id")), "left_anti");
            } else {
                Dataset<Row> drops = table(pool.sparkSession(), sizes.keySet().stream().collect(java.util.stream.Collectors
                        .toMap(g -> List.of(g), g -> (long) Math.floor(sel.ccsDropHardest() * sizes.get(g) + 1e-9))), GROUP);
                pool = pool.withColumn(RANK, row_number().over(Window.partitionBy(GROUP).orderBy(col(HARD).desc(), col("id"))))
                        .join(broadcast(drops), GROUP)
                        .where(col(RANK).gt(col(BUDGET)))
                        .drop(RANK, BUDGET);
            }
        }
        Map<Integer, Long> groupSizes = counts(pool, GROUP);
        Map<Integer, Long> groupBudgets = budgets(groupSizes, keep, sel.classBalanced());
        Column order = switch (sel.method()) {
            case RANDOM, CCS -> random;
            case HARDEST -> col(HARD).desc();
            case EASIEST -> col(HARD).asc();
        };
        if (sel.method() != SelectionMethod.CCS) {
            if (!sel.classBalanced()) {
                // One group: a distributed sort and limit.
                return pool.orderBy(order, col("id")).limit((int) Math.min(keep, Integer.MAX_VALUE))
                        .select(col("id"), col("label"));
            }
            Dataset<Row> b = table(pool.sparkSession(), groupBudgets.entrySet().stream().collect(java.util.stream
                    .Collectors.toMap(e -> List.of(e.getKey()), Map.Entry::getValue)), GROUP);
            return pool.withColumn(RANK, row_number().over(Window.partitionBy(GROUP).orderBy(order, col("id"))))
                    .join(broadcast(b), GROUP)
                    .where(col(RANK).leq(col(BUDGET)))
                    .select(col("id"), col("label"));
        }
        // CCS: equal-width strata of hardness per group, budgets spread evenly over strata.
        Map<Integer, double[]> ranges = new java.util.HashMap<>();
        for (Row r : pool.groupBy(GROUP).agg(min(HARD), max(HARD)).collectAsList()) {
            ranges.put(r.getInt(0), new double[] {r.getDouble(1), r.getDouble(2)});
        }
        final Map<Integer, double[]> bounds = Map.copyOf(ranges);
        final int k = sel.ccsStrata();
        UserDefinedFunction stratumOf = udf((UDF2<Integer, Double, Integer>) (g, h) -> {
            double[] mm = bounds.get(g);
            // Spark may evaluate this column for rows the drop above filters out later (their score lies
            // above the remaining range); clamping keeps the function total, and those rows never survive.
            return SelectionBudgets.stratum(Math.max(mm[0], Math.min(mm[1], h)), mm[0], mm[1], k);
        }, DataTypes.IntegerType);
        pool = pool.withColumn(STRATUM, stratumOf.apply(col(GROUP), col(HARD)));
        Map<List<Integer>, Long> budgets = new java.util.HashMap<>();
        Map<List<Integer>, Long> strata = counts2(pool);
        for (Map.Entry<Integer, Long> g : groupBudgets.entrySet()) {
            long[] sizes = new long[k];
            for (int s = 0; s < k; s++) {
                sizes[s] = strata.getOrDefault(List.of(g.getKey(), s), 0L);
            }
            long[] b = SelectionBudgets.ccsBudgets(sizes, g.getValue());
            for (int s = 0; s < k; s++) {
                if (b[s] > 0) {
                    budgets.put(List.of(g.getKey(), s), b[s]);
                }
            }
        }
        Dataset<Row> b = table(pool.sparkSession(), budgets, GROUP, STRATUM);
        return pool.withColumn(RANK, row_number().over(Window.partitionBy(GROUP, STRATUM).orderBy(random, col("id"))))
                .join(broadcast(b), JavaConverters.asScalaBuffer(List.of(GROUP, STRATUM)).toSeq())
                .where(col(RANK).leq(col(BUDGET)))
                .select(col("id"), col("label"));
    }

    private static Map<Integer, Long> budgets(Map<Integer, Long> groupSizes, long keep, boolean balanced) {
        List<Integer> groups = new ArrayList<>(new java.util.TreeSet<>(groupSizes.keySet()));
        long[] sizes = groups.stream().mapToLong(groupSizes::get).toArray();
        long[] b = balanced ? SelectionBudgets.proportional(sizes, keep)
                : new long[] {Math.min(keep, sizes.length == 0 ? 0 : sizes[0])};
        Map<Integer, Long> out = new TreeMap<>();
        for (int i = 0; i < groups.size(); i++) {
            out.put(groups.get(i), b[i]);
        }
        return out;
    }

    private static Map<Integer, Long> counts(Dataset<Row> df, String column) {
        Map<Integer, Long> m = new TreeMap<>();
        for (Row r : df.groupBy(column).count().collectAsList()) {
            m.put(r.getInt(0), r.getLong(1));
        }
        return m;
    }

    private static Map<List<Integer>, Long> counts2(Dataset<Row> df) {
        Map<List<Integer>, Long> m = new java.util.HashMap<>();
        for (Row r : df.groupBy(GROUP, STRATUM).count().collectAsList()) {
            m.put(List.of(r.getInt(0), r.getInt(1)), r.getLong(2));
        }
        return m;
    }

    /** A small table of integer key columns and a {@value #BUDGET} column. */
    private static Dataset<Row> table(SparkSession spark, Map<List<Integer>, Long> values, String... keys) {
        StructType schema = new StructType();
        for (String key : keys) {
            schema = schema.add(key, DataTypes.IntegerType, false);
        }
        schema = schema.add(BUDGET, DataTypes.LongType, false);
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<List<Integer>, Long> e : values.entrySet()) {
            Object[] v = new Object[keys.length + 1];
            for (int i = 0; i < keys.length; i++) {
                v[i] = e.getKey().get(i);
            }
            v[keys.length] = e.getValue();
            rows.add(RowFactory.create(v));
        }
        return spark.createDataFrame(rows, schema);
    }

    @Override
    public void execute(RunContext ctx, StageDir dir, ObjectNode details) throws Exception {
        PareConfig.Selection sel = ctx.config().selection();
        Path scoresPath = new Path(StageDir.finished(ctx.runDir(), ScoreDataStage.FOLDER), ScoreDataStage.TABLE);
        Path out = new Path(dir.tmp(), TABLE);
        DriverScores onDriver = DriverScores.read(ctx.files(), scoresPath, sel.score().configName(), DRIVER_ROWS);
        long total;
        Summary summary;
        if (onDriver != null) {
            total = onDriver.ids().length;
            boolean[] kept = onDriver.select(sel, ctx.config().seed(), keptCount(total, sel.fraction()));
            onDriver.writeKept(ctx.files(), kept, out, ctx.config().spark().conf());
            summary = onDriver.summary(kept, sel.histogramBins());
        } else {
            Dataset<Row> scores = ParquetTables.read(ctx.spark(), ctx.files(), scoresPath);
            if (!java.util.Arrays.asList(scores.columns()).contains(sel.score().configName())) {
                throw missingScore(scoresPath, sel.score().configName());
            }
            total = scores.count();
            select(scores, sel, ctx.config().seed(), keptCount(total, sel.fraction())).write().parquet(out.toString());
            Dataset<Row> kept = ParquetTables.read(ctx.spark(), ctx.files(), out);
            summary = summary(scores, kept, sel.score().configName(), sel.histogramBins());
        }
        ObjectNode report = Json.object();
        report.put("method", sel.method().configName());
        report.put("score", sel.score().configName());
        report.put("classBalanced", sel.classBalanced());
        if (sel.method() == SelectionMethod.CCS) {
            report.put("ccsStrata", sel.ccsStrata());
            report.put("ccsDropHardest", sel.ccsDropHardest());
        }
        report.put("fraction", sel.fraction());
        report.put("total", total);
        report.put("kept", summary.perClass().values().stream().mapToLong(c -> c[1]).sum());
        ArrayNode classes = report.putArray("perClass");
        summary.perClass().forEach((label, n) -> {
            ObjectNode c = classes.addObject();
            c.put("label", label);
            c.put("total", n[0]);
            c.put("kept", n[1]);
        });
        report.set("histogram", summary.histogram());
        ctx.files().writeString(new Path(dir.tmp(), REPORT), Json.MAPPER.writeValueAsString(report));
        details.setAll(report);
        ctx.out().printf("%-12s kept %d of %d examples (%s%s%s, f = %s)%n", name(), report.get("kept").asLong(), total,
                sel.method().configName(), sel.method() == SelectionMethod.RANDOM ? "" : " by " + sel.score().configName(),
                sel.classBalanced() ? ", class-balanced" : "", sel.fraction());
    }

    /**
     * Score tables of at most this many rows are read and selected on the driver ({@link DriverScores}), where
     * Spark's fixed costs dominate: the Spark route's seven small jobs took 7.9-9.2 s of a select-data command on
     * Fashion-MNIST's 60k scores, most of it planning each query in a cold JVM, and the driver route 0.6-0.8 s.
     * The bound keeps the driver's memory flat however large the training set: about 70 bytes a row (the
     * columns read, the hardness and random keys, the sorts' index arrays), some 18 MB at the bound. Larger
     * tables take the Spark route. Both routes keep the same rows and write the same report.
     */
    static final long DRIVER_ROWS = 250_000;

    static dev.pare.jobs.io.BadInputException missingScore(Path scores, String column) {
        return new dev.pare.jobs.io.BadInputException(scores + " has no column '" + column
                + "' (selection.score); it was written by an older score-data: rerun score-data with --force");
    }

    /**
     * What {@value #REPORT} counts: per class, the rows of {@code all} and how many of them {@code kept} holds
     * ({total, kept}, by label); and an equal-width histogram of {@code column} over its range in {@code all},
     * with the same counts per bin. Two Spark jobs on the scores marked kept or not (a left join on id, held
     * for the second): one for the classes and the range, one for the bins. Each count was a query of its own
     * before, five in all: the demo's select-data took 7.8-9.1 s against 9.1-10.8 s then (the same report).
     */
    static Summary summary(Dataset<Row> all, Dataset<Row> kept, String column, int bins) {
        Dataset<Row> marked = all.select(col("id"), col("label"), col(column).as(SCORE))
                .join(kept.select(col("id")).withColumn(KEPT, lit(1L)),
                        JavaConverters.asScalaBuffer(List.of("id")).toSeq(), "left")
                .withColumn(KEPT, coalesce(col(KEPT), lit(0L)))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            TreeMap<Integer, long[]> perClass = new TreeMap<>();
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (Row r : marked.groupBy("label").agg(count(lit(1)), sum(KEPT), min(SCORE), max(SCORE)).collectAsList()) {
                perClass.put(r.getInt(0), new long[] {r.getLong(1), r.getLong(2)});
                lo = Math.min(lo, r.getDouble(3));
                hi = Math.max(hi, r.getDouble(4));
            }
            if (perClass.isEmpty()) {
                lo = 0;
                hi = 0;
            }
            final double low = lo;
            final double high = hi;
            UserDefinedFunction bin = udf((UDF1<Double, Integer>) v -> SelectionBudgets.stratum(v, low, high, bins),
                    DataTypes.IntegerType);
            long[] a = new long[bins];
            long[] k = new long[bins];
            for (Row r : marked.groupBy(bin.apply(col(SCORE))).agg(count(lit(1)), sum(KEPT)).collectAsList()) {
                a[r.getInt(0)] = r.getLong(1);
                k[r.getInt(0)] = r.getLong(2);
            }
            ObjectNode h = Json.object();
            h.put("score", column);
            h.put("min", low);
            h.put("max", high);
            ArrayNode ha = h.putArray("all");
            ArrayNode hk = h.putArray("kept");
            for (int i = 0; i < bins; i++) {
                ha.add(a[i]);
                hk.add(k[i]);
            }
            return new Summary(perClass, h);
        } finally {
            marked.unpersist(false);
        }
    }

    /** {@link #summary}: {total, kept} per label, and the histogram as {@value #REPORT} holds it. */
    record Summary(TreeMap<Integer, long[]> perClass, ObjectNode histogram) {}
}
