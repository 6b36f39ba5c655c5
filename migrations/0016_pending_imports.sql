CREATE TABLE `pending_imports` (
	`job_id` integer PRIMARY KEY NOT NULL,
	`study_id` integer NOT NULL,
	`staging_study_id` integer NOT NULL,
	`annotator_ids` text DEFAULT '[]' NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
ALTER TABLE `votes` ADD `import_job_id` integer;--> statement-breakpoint
CREATE INDEX `votes_import_job_idx` ON `votes` (`import_job_id`) WHERE import_job_id is not null;--> statement-breakpoint
-- Votes an import is still writing (votes.import_job_id naming a job in pending_imports) are in no
-- tally: imported votes skip the insert trigger (0011), and the import adds them to the tallies in its
-- publishing commit (ADR 0036). Deleting one that was never published (the clean-up of a crashed or
-- failed import) must therefore subtract nothing: the delete triggers of 0011 now skip them.
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
    SELECT `prompt_a_id` AS `prompt_id`, CASE WHEN `left_is_a` THEN 'left' ELSE 'right' END AS `shown` FROM `assignments` WHERE `id` = OLD.`assignment_id`
    UNION ALL
    SELECT `prompt_b_id`, CASE WHEN `left_is_a` THEN 'right' ELSE 'left' END FROM `assignments` WHERE `id` = OLD.`assignment_id`
  ) AS `side`
  WHERE `prompt_tallies`.`prompt_id` = `side`.`prompt_id` AND OLD.`choice` <> 'skip' AND NOT EXISTS (SELECT 1 FROM `study_annotators` `x` WHERE `x`.`study_id` = OLD.`study_id` AND `x`.`annotator_id` = OLD.`annotator_id` AND `x`.`excluded_at` IS NOT NULL);
  UPDATE `pair_tallies` SET
    `low_wins` = `low_wins` - CASE WHEN `duel`.`prompt_a_id` < `duel`.`prompt_b_id` THEN `duel`.`a_wins` ELSE `duel`.`b_wins` END,
    `high_wins` = `high_wins` - CASE WHEN `duel`.`prompt_a_id` < `duel`.`prompt_b_id` THEN `duel`.`b_wins` ELSE `duel`.`a_wins` END,
    `draws` = `draws` - (OLD.`choice` IN ('tie', 'both_bad'))
  FROM (
    SELECT `prompt_a_id`, `prompt_b_id`, OLD.`choice` = CASE WHEN `left_is_a` THEN 'left' ELSE 'right' END AS `a_wins`,
      OLD.`choice` = CASE WHEN `left_is_a` THEN 'right' ELSE 'left' END AS `b_wins`
    FROM `assignments` WHERE `id` = OLD.`assignment_id`
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
CREATE TRIGGER `assignments_tally_delete` BEFORE DELETE ON `assignments` BEGIN
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
