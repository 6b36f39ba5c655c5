CREATE TABLE `jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`study_id` integer,
	`state` text DEFAULT 'queued' NOT NULL,
	`input_file` text NOT NULL,
	`plan` text,
	`phase` text,
	`progress_done` integer DEFAULT 0 NOT NULL,
	`progress_total` integer DEFAULT 0 NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`errors` text,
	`result` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `jobs_state_idx` ON `jobs` (`state`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_study_idx` ON `jobs` (`study_id`,`id`);--> statement-breakpoint
ALTER TABLE `votes` ADD `origin` text;--> statement-breakpoint
CREATE UNIQUE INDEX `votes_study_origin_unique` ON `votes` (`study_id`,`origin`) WHERE origin is not null;--> statement-breakpoint
-- Imported votes (origin set) are added to the tallies by the import, in bulk; the trigger counts the rest.
DROP TRIGGER `votes_tally_insert`;
--> statement-breakpoint
CREATE TRIGGER `votes_tally_insert` AFTER INSERT ON `votes` WHEN NEW.`origin` IS NULL BEGIN
  INSERT INTO `prompt_tallies` (`prompt_id`, `study_id`, `wins`, `losses`, `ties`, `both_bad`)
    SELECT `side`.`prompt_id`, NEW.`study_id`, NEW.`choice` = `side`.`shown`, NEW.`choice` IN ('left', 'right') AND NEW.`choice` <> `side`.`shown`,
      NEW.`choice` = 'tie', NEW.`choice` = 'both_bad'
    FROM (
      SELECT `prompt_a_id` AS `prompt_id`, CASE WHEN `left_is_a` THEN 'left' ELSE 'right' END AS `shown` FROM `assignments` WHERE `id` = NEW.`assignment_id`
      UNION ALL
      SELECT `prompt_b_id`, CASE WHEN `left_is_a` THEN 'right' ELSE 'left' END FROM `assignments` WHERE `id` = NEW.`assignment_id`
    ) AS `side`
    WHERE NEW.`choice` <> 'skip'
    ON CONFLICT (`prompt_id`) DO UPDATE SET `wins` = `wins` + excluded.`wins`, `losses` = `losses` + excluded.`losses`,
      `ties` = `ties` + excluded.`ties`, `both_bad` = `both_bad` + excluded.`both_bad`;
  INSERT INTO `pair_tallies` (`low_prompt_id`, `high_prompt_id`, `low_wins`, `high_wins`, `draws`)
    SELECT min(`prompt_a_id`, `prompt_b_id`), max(`prompt_a_id`, `prompt_b_id`),
      CASE WHEN `prompt_a_id` < `prompt_b_id` THEN `a_wins` ELSE `b_wins` END, CASE WHEN `prompt_a_id` < `prompt_b_id` THEN `b_wins` ELSE `a_wins` END,
      NEW.`choice` IN ('tie', 'both_bad')
    FROM (
      SELECT `prompt_a_id`, `prompt_b_id`, NEW.`choice` = CASE WHEN `left_is_a` THEN 'left' ELSE 'right' END AS `a_wins`,
        NEW.`choice` = CASE WHEN `left_is_a` THEN 'right' ELSE 'left' END AS `b_wins`
      FROM `assignments` WHERE `id` = NEW.`assignment_id`
    ) AS `duel`
    WHERE NEW.`choice` <> 'skip'
    ON CONFLICT (`low_prompt_id`, `high_prompt_id`) DO UPDATE SET `low_wins` = `low_wins` + excluded.`low_wins`,
      `high_wins` = `high_wins` + excluded.`high_wins`, `draws` = `draws` + excluded.`draws`;
  INSERT INTO `annotator_tallies` (`study_id`, `annotator_id`, `votes`, `skips`, `latency_sum_ms`, `latency_count`)
    VALUES (NEW.`study_id`, NEW.`annotator_id`, 1, NEW.`choice` = 'skip', coalesce(NEW.`latency_ms`, 0), NEW.`latency_ms` IS NOT NULL)
    ON CONFLICT (`study_id`, `annotator_id`) DO UPDATE SET `votes` = `votes` + 1, `skips` = `skips` + excluded.`skips`,
      `latency_sum_ms` = `latency_sum_ms` + excluded.`latency_sum_ms`, `latency_count` = `latency_count` + excluded.`latency_count`;
END;
