CREATE TABLE `gold_items` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`study_id` integer NOT NULL,
	`query_id` integer NOT NULL,
	`low_prompt_id` integer NOT NULL,
	`high_prompt_id` integer NOT NULL,
	`preferred_prompt_id` integer NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`query_id`) REFERENCES `queries`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`low_prompt_id`) REFERENCES `prompts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`high_prompt_id`) REFERENCES `prompts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `gold_items_item_unique` ON `gold_items` (`study_id`,`query_id`,`low_prompt_id`,`high_prompt_id`);--> statement-breakpoint
ALTER TABLE `assignments` ADD `purpose` text DEFAULT 'work' NOT NULL;--> statement-breakpoint
ALTER TABLE `assignments` ADD `audit_of` integer;--> statement-breakpoint
ALTER TABLE `studies` ADD `audit_rate` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `studies` ADD `audit_max_share` real DEFAULT 0.1 NOT NULL;--> statement-breakpoint
ALTER TABLE `studies` ADD `gold_rate` real DEFAULT 0 NOT NULL;
--> statement-breakpoint
-- Audit votes (assignments.purpose = 'audit': a pair re-served to the same annotator, sides swapped) are
-- a self-consistency check, not a second judgement: the tally triggers of 0011 are recreated with the same
-- bodies plus "the assignment is not an audit", so audits never enter the prompt and pair tallies (the
-- leaderboard); the annotator tally still counts them (their work). The engine's history skips them too
-- (assignmentIsCounted in db/schema.ts). ADR 0034.
-- They keep 0016's rule too: a vote an import has not published yet (its job still in pending_imports)
-- is in no tally, so deleting it, or excluding its annotator meanwhile, moves nothing (ADR 0036).
DROP TRIGGER `votes_tally_insert`;
--> statement-breakpoint
CREATE TRIGGER `votes_tally_insert` AFTER INSERT ON `votes` WHEN NEW.`origin` IS NULL BEGIN
  INSERT INTO `prompt_tallies` (`prompt_id`, `study_id`, `wins`, `losses`, `ties`, `both_bad`)
    SELECT `side`.`prompt_id`, NEW.`study_id`, NEW.`choice` = `side`.`shown`, NEW.`choice` IN ('left', 'right') AND NEW.`choice` <> `side`.`shown`,
      NEW.`choice` = 'tie', NEW.`choice` = 'both_bad'
    FROM (
      SELECT `prompt_a_id` AS `prompt_id`, CASE WHEN `left_is_a` THEN 'left' ELSE 'right' END AS `shown` FROM `assignments` WHERE `id` = NEW.`assignment_id` AND `purpose` <> 'audit'
      UNION ALL
      SELECT `prompt_b_id`, CASE WHEN `left_is_a` THEN 'right' ELSE 'left' END FROM `assignments` WHERE `id` = NEW.`assignment_id` AND `purpose` <> 'audit'
    ) AS `side`
    WHERE NEW.`choice` <> 'skip' AND NOT EXISTS (SELECT 1 FROM `study_annotators` `x` WHERE `x`.`study_id` = NEW.`study_id` AND `x`.`annotator_id` = NEW.`annotator_id` AND `x`.`excluded_at` IS NOT NULL)
    ON CONFLICT (`prompt_id`) DO UPDATE SET `wins` = `wins` + excluded.`wins`, `losses` = `losses` + excluded.`losses`,
      `ties` = `ties` + excluded.`ties`, `both_bad` = `both_bad` + excluded.`both_bad`;
  INSERT INTO `pair_tallies` (`low_prompt_id`, `high_prompt_id`, `low_wins`, `high_wins`, `draws`)
    SELECT min(`prompt_a_id`, `prompt_b_id`), max(`prompt_a_id`, `prompt_b_id`),
      CASE WHEN `prompt_a_id` < `prompt_b_id` THEN `a_wins` ELSE `b_wins` END, CASE WHEN `prompt_a_id` < `prompt_b_id` THEN `b_wins` ELSE `a_wins` END,
      NEW.`choice` IN ('tie', 'both_bad')
    FROM (
      SELECT `prompt_a_id`, `prompt_b_id`, NEW.`choice` = CASE WHEN `left_is_a` THEN 'left' ELSE 'right' END AS `a_wins`,
        NEW.`choice` = CASE WHEN `left_is_a` THEN 'right' ELSE 'left' END AS `b_wins`
      FROM `assignments` WHERE `id` = NEW.`assignment_id` AND `purpose` <> 'audit'
    ) AS `duel`
    WHERE NEW.`choice` <> 'skip' AND NOT EXISTS (SELECT 1 FROM `study_annotators` `x` WHERE `x`.`study_id` = NEW.`study_id` AND `x`.`annotator_id` = NEW.`annotator_id` AND `x`.`excluded_at` IS NOT NULL)
    ON CONFLICT (`low_prompt_id`, `high_prompt_id`) DO UPDATE SET `low_wins` = `low_wins` + excluded.`low_wins`,
      `high_wins` = `high_wins` + excluded.`high_wins`, `draws` = `draws` + excluded.`draws`;
  INSERT INTO `annotator_tallies` (`study_id`, `annotator_id`, `votes`, `skips`, `latency_sum_ms`, `latency_count`)
    VALUES (NEW.`study_id`, NEW.`annotator_id`, 1, NEW.`choice` = 'skip', coalesce(NEW.`latency_ms`, 0), NEW.`latency_ms` IS NOT NULL)
    ON CONFLICT (`study_id`, `annotator_id`) DO UPDATE SET `votes` = `votes` + 1, `skips` = `skips` + excluded.`skips`,
      `latency_sum_ms` = `latency_sum_ms` + excluded.`latency_sum_ms`, `latency_count` = `latency_count` + excluded.`latency_count`;
END;
--> statement-breakpoint
DROP TRIGGER `votes_tally_delete`;
--> statement-breakpoint
CREATE TRIGGER `votes_tally_delete` AFTER DELETE ON `votes`
  WHEN OLD.`import_job_id` IS NULL OR OLD.`import_job_id` NOT IN (SELECT `job_id` FROM `pending_imports`) BEGIN
  UPDATE `prompt_tallies` SET
    `wins` = `wins` - (OLD.`choice` = `side`.`shown`),
    `losses` = `losses` - (OLD.`choice` IN ('left', 'right') AND OLD.`choice` <> `side`.`shown`),
    `ties` = `ties` - (OLD.`choice` = 'tie'),
    `both_bad` = `both_bad` - (OLD.`choice` = 'both_bad')
  FROM (
    SELECT `prompt_a_id` AS `prompt_id`, CASE WHEN `left_is_a` THEN 'left' ELSE 'right' END AS `shown` FROM `assignments` WHERE `id` = OLD.`assignment_id` AND `purpose` <> 'audit'
    UNION ALL
    SELECT `prompt_b_id`, CASE WHEN `left_is_a` THEN 'right' ELSE 'left' END FROM `assignments` WHERE `id` = OLD.`assignment_id` AND `purpose` <> 'audit'
  ) AS `side`
  WHERE `prompt_tallies`.`prompt_id` = `side`.`prompt_id` AND OLD.`choice` <> 'skip' AND NOT EXISTS (SELECT 1 FROM `study_annotators` `x` WHERE `x`.`study_id` = OLD.`study_id` AND `x`.`annotator_id` = OLD.`annotator_id` AND `x`.`excluded_at` IS NOT NULL);
  UPDATE `pair_tallies` SET
    `low_wins` = `low_wins` - CASE WHEN `duel`.`prompt_a_id` < `duel`.`prompt_b_id` THEN `duel`.`a_wins` ELSE `duel`.`b_wins` END,
    `high_wins` = `high_wins` - CASE WHEN `duel`.`prompt_a_id` < `duel`.`prompt_b_id` THEN `duel`.`b_wins` ELSE `duel`.`a_wins` END,
    `draws` = `draws` - (OLD.`choice` IN ('tie', 'both_bad'))
  FROM (
    SELECT `prompt_a_id`, `prompt_b_id`, OLD.`choice` = CASE WHEN `left_is_a` THEN 'left' ELSE 'right' END AS `a_wins`,
      OLD.`choice` = CASE WHEN `left_is_a` THEN 'right' ELSE 'left' END AS `b_wins`
    FROM `assignments` WHERE `id` = OLD.`assignment_id` AND `purpose` <> 'audit'
  ) AS `duel`
  WHERE `pair_tallies`.`low_prompt_id` = min(`duel`.`prompt_a_id`, `duel`.`prompt_b_id`)
    AND `pair_tallies`.`high_prompt_id` = max(`duel`.`prompt_a_id`, `duel`.`prompt_b_id`) AND OLD.`choice` <> 'skip' AND NOT EXISTS (SELECT 1 FROM `study_annotators` `x` WHERE `x`.`study_id` = OLD.`study_id` AND `x`.`annotator_id` = OLD.`annotator_id` AND `x`.`excluded_at` IS NOT NULL);
  UPDATE `annotator_tallies` SET `votes` = `votes` - 1, `skips` = `skips` - (OLD.`choice` = 'skip'),
    `latency_sum_ms` = `latency_sum_ms` - coalesce(OLD.`latency_ms`, 0), `latency_count` = `latency_count` - (OLD.`latency_ms` IS NOT NULL)
  WHERE `study_id` = OLD.`study_id` AND `annotator_id` = OLD.`annotator_id`;
END;
--> statement-breakpoint
DROP TRIGGER `assignments_tally_delete`;
--> statement-breakpoint
CREATE TRIGGER `assignments_tally_delete` BEFORE DELETE ON `assignments` WHEN OLD.`purpose` <> 'audit' BEGIN
  UPDATE `prompt_tallies` SET
    `wins` = `wins` - (`vote`.`choice` = `side`.`shown`),
    `losses` = `losses` - (`vote`.`choice` IN ('left', 'right') AND `vote`.`choice` <> `side`.`shown`),
    `ties` = `ties` - (`vote`.`choice` = 'tie'),
    `both_bad` = `both_bad` - (`vote`.`choice` = 'both_bad')
  FROM (SELECT `choice` FROM `votes` WHERE `assignment_id` = OLD.`id` AND `choice` <> 'skip' AND (`votes`.`import_job_id` IS NULL OR `votes`.`import_job_id` NOT IN (SELECT `job_id` FROM `pending_imports`)) AND NOT EXISTS (SELECT 1 FROM `study_annotators` `x` WHERE `x`.`study_id` = `votes`.`study_id` AND `x`.`annotator_id` = `votes`.`annotator_id` AND `x`.`excluded_at` IS NOT NULL)) AS `vote`,
    (SELECT OLD.`prompt_a_id` AS `prompt_id`, CASE WHEN OLD.`left_is_a` THEN 'left' ELSE 'right' END AS `shown`
     UNION ALL SELECT OLD.`prompt_b_id`, CASE WHEN OLD.`left_is_a` THEN 'right' ELSE 'left' END) AS `side`
  WHERE `prompt_tallies`.`prompt_id` = `side`.`prompt_id`;
  UPDATE `pair_tallies` SET
    `low_wins` = `low_wins` - (`vote`.`choice` = CASE WHEN (OLD.`prompt_a_id` < OLD.`prompt_b_id`) = (OLD.`left_is_a` = 1) THEN 'left' ELSE 'right' END),
    `high_wins` = `high_wins` - (`vote`.`choice` = CASE WHEN (OLD.`prompt_a_id` < OLD.`prompt_b_id`) = (OLD.`left_is_a` = 1) THEN 'right' ELSE 'left' END),
    `draws` = `draws` - (`vote`.`choice` IN ('tie', 'both_bad'))
  FROM (SELECT `choice` FROM `votes` WHERE `assignment_id` = OLD.`id` AND `choice` <> 'skip' AND (`votes`.`import_job_id` IS NULL OR `votes`.`import_job_id` NOT IN (SELECT `job_id` FROM `pending_imports`)) AND NOT EXISTS (SELECT 1 FROM `study_annotators` `x` WHERE `x`.`study_id` = `votes`.`study_id` AND `x`.`annotator_id` = `votes`.`annotator_id` AND `x`.`excluded_at` IS NOT NULL)) AS `vote`
  WHERE `pair_tallies`.`low_prompt_id` = min(OLD.`prompt_a_id`, OLD.`prompt_b_id`) AND `pair_tallies`.`high_prompt_id` = max(OLD.`prompt_a_id`, OLD.`prompt_b_id`);
END;
--> statement-breakpoint
DROP TRIGGER `study_annotators_exclusion_tally`;
--> statement-breakpoint
CREATE TRIGGER `study_annotators_exclusion_tally` AFTER UPDATE OF `excluded_at` ON `study_annotators`
  WHEN (OLD.`excluded_at` IS NULL) <> (NEW.`excluded_at` IS NULL) BEGIN
  INSERT INTO `prompt_tallies` (`prompt_id`, `study_id`, `wins`, `losses`, `ties`, `both_bad`)
    SELECT `side`.`prompt_id`, NEW.`study_id`, `side`.`sign` * sum(`side`.`choice` = `side`.`shown`),
      `side`.`sign` * sum(`side`.`choice` IN ('left', 'right') AND `side`.`choice` <> `side`.`shown`),
      `side`.`sign` * sum(`side`.`choice` = 'tie'), `side`.`sign` * sum(`side`.`choice` = 'both_bad')
    FROM (
      SELECT a.`prompt_a_id` AS `prompt_id`, v.`choice`, CASE WHEN a.`left_is_a` THEN 'left' ELSE 'right' END AS `shown`,
        CASE WHEN NEW.`excluded_at` IS NULL THEN 1 ELSE -1 END AS `sign`
        FROM `votes` v JOIN `assignments` a ON a.`id` = v.`assignment_id`
        WHERE v.`study_id` = NEW.`study_id` AND v.`annotator_id` = NEW.`annotator_id` AND v.`choice` <> 'skip' AND a.`purpose` <> 'audit'
          AND (v.`import_job_id` IS NULL OR v.`import_job_id` NOT IN (SELECT `job_id` FROM `pending_imports`))
      UNION ALL
      SELECT a.`prompt_b_id`, v.`choice`, CASE WHEN a.`left_is_a` THEN 'right' ELSE 'left' END,
        CASE WHEN NEW.`excluded_at` IS NULL THEN 1 ELSE -1 END
        FROM `votes` v JOIN `assignments` a ON a.`id` = v.`assignment_id`
        WHERE v.`study_id` = NEW.`study_id` AND v.`annotator_id` = NEW.`annotator_id` AND v.`choice` <> 'skip' AND a.`purpose` <> 'audit'
          AND (v.`import_job_id` IS NULL OR v.`import_job_id` NOT IN (SELECT `job_id` FROM `pending_imports`))
    ) AS `side`
    WHERE true
    GROUP BY `side`.`prompt_id`
    ON CONFLICT (`prompt_id`) DO UPDATE SET `wins` = `wins` + excluded.`wins`, `losses` = `losses` + excluded.`losses`,
      `ties` = `ties` + excluded.`ties`, `both_bad` = `both_bad` + excluded.`both_bad`;
  INSERT INTO `pair_tallies` (`low_prompt_id`, `high_prompt_id`, `low_wins`, `high_wins`, `draws`)
    SELECT min(a.`prompt_a_id`, a.`prompt_b_id`) AS `low`, max(a.`prompt_a_id`, a.`prompt_b_id`) AS `high`,
      (CASE WHEN NEW.`excluded_at` IS NULL THEN 1 ELSE -1 END) * sum(v.`choice` = CASE WHEN (a.`prompt_a_id` < a.`prompt_b_id`) = (a.`left_is_a` = 1) THEN 'left' ELSE 'right' END),
      (CASE WHEN NEW.`excluded_at` IS NULL THEN 1 ELSE -1 END) * sum(v.`choice` = CASE WHEN (a.`prompt_a_id` < a.`prompt_b_id`) = (a.`left_is_a` = 1) THEN 'right' ELSE 'left' END),
      (CASE WHEN NEW.`excluded_at` IS NULL THEN 1 ELSE -1 END) * sum(v.`choice` IN ('tie', 'both_bad'))
    FROM `votes` v JOIN `assignments` a ON a.`id` = v.`assignment_id`
    WHERE v.`study_id` = NEW.`study_id` AND v.`annotator_id` = NEW.`annotator_id` AND v.`choice` <> 'skip' AND a.`purpose` <> 'audit'
          AND (v.`import_job_id` IS NULL OR v.`import_job_id` NOT IN (SELECT `job_id` FROM `pending_imports`))
    GROUP BY `low`, `high`
    ON CONFLICT (`low_prompt_id`, `high_prompt_id`) DO UPDATE SET `low_wins` = `low_wins` + excluded.`low_wins`,
      `high_wins` = `high_wins` + excluded.`high_wins`, `draws` = `draws` + excluded.`draws`;
END;
