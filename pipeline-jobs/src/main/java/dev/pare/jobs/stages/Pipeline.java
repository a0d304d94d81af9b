package dev.pare.jobs.stages;

import dev.pare.jobs.stage.Stage;
import java.util.List;

/** The stages of {@code pare run}, in order. */
public final class Pipeline {
    private Pipeline() {}

    public static List<Stage> stages() {
        return List.of(new CalibrateStage(), new ScoreDataStage(), new SelectDataStage(), new PruneStage(),
                new DistillStage(), new EvaluateStage(), new ReportStage());
    }
}
