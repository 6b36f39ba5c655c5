CREATE TABLE `annotator_tallies` (
	`study_id` integer NOT NULL,
	`annotator_id` integer NOT NULL,
	`votes` integer DEFAULT 0 NOT NULL,
	`skips` integer DEFAULT 0 NOT NULL,
	`latency_sum_ms` integer DEFAULT 0 NOT NULL,
	`latency_count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`study_id`, `annotator_id`),
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `pair_tallies` (
	`low_prompt_id` integer NOT NULL,
	`high_prompt_id` integer NOT NULL,
	`low_wins` integer DEFAULT 0 NOT NULL,
	`high_wins` integer DEFAULT 0 NOT NULL,
	`draws` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`low_prompt_id`, `high_prompt_id`),
	FOREIGN KEY (`low_prompt_id`) REFERENCES `prompts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`high_prompt_id`) REFERENCES `prompts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `pair_tallies_high_idx` ON `pair_tallies` (`high_prompt_id`);--> statement-breakpoint
CREATE TABLE `prompt_tallies` (
	`prompt_id` integer PRIMARY KEY NOT NULL,
	`study_id` integer NOT NULL,
	`wins` integer DEFAULT 0 NOT NULL,
	`losses` integer DEFAULT 0 NOT NULL,
	`ties` integer DEFAULT 0 NOT NULL,
	`both_bad` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`prompt_id`) REFERENCES `prompts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `prompt_tallies_study_idx` ON `prompt_tallies` (`study_id`);--> statement-breakpoint
-- Triggers keep the tallies (db/schema.ts) equal to the votes, whichever path writes them. A vote's
-- side is resolved to prompts through its assignment (left_is_a); skips count only for the annotator.
CREATE TRIGGER `votes_tally_insert` AFTER INSERT ON `votes` BEGIN
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
--> statement-breakpoint
-- A vote deleted on its own: take it out of every tally. When its assignment is deleted (directly or by
-- a prompt's or study's cascade), the assignment is gone by now and assignments_tally_delete has taken
-- the vote out of the prompt and pair tallies already; the annotator tally is only kept here.
CREATE TRIGGER `votes_tally_delete` AFTER DELETE ON `votes` BEGIN
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
  WHERE `prompt_tallies`.`prompt_id` = `side`.`prompt_id` AND OLD.`choice` <> 'skip';
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
    AND `pair_tallies`.`high_prompt_id` = max(`duel`.`prompt_a_id`, `duel`.`prompt_b_id`) AND OLD.`choice` <> 'skip';
  UPDATE `annotator_tallies` SET `votes` = `votes` - 1, `skips` = `skips` - (OLD.`choice` = 'skip'),
    `latency_sum_ms` = `latency_sum_ms` - coalesce(OLD.`latency_ms`, 0), `latency_count` = `latency_count` - (OLD.`latency_ms` IS NOT NULL)
  WHERE `study_id` = OLD.`study_id` AND `annotator_id` = OLD.`annotator_id`;
END;
--> statement-breakpoint
-- An assignment deleted with its vote still there (before the vote's own cascade runs).
CREATE TRIGGER `assignments_tally_delete` BEFORE DELETE ON `assignments` BEGIN
  UPDATE `prompt_tallies` SET
    `wins` = `wins` - (`vote`.`choice` = `side`.`shown`),
    `losses` = `losses` - (`vote`.`choice` IN ('left', 'right') AND `vote`.`choice` <> `side`.`shown`),
    `ties` = `ties` - (`vote`.`choice` = 'tie'),
    `both_bad` = `both_bad` - (`vote`.`choice` = 'both_bad')
  FROM (SELECT `choice` FROM `votes` WHERE `assignment_id` = OLD.`id` AND `choice` <> 'skip') AS `vote`,
    (SELECT OLD.`prompt_a_id` AS `prompt_id`, CASE WHEN OLD.`left_is_a` THEN 'left' ELSE 'right' END AS `shown`
     UNION ALL SELECT OLD.`prompt_b_id`, CASE WHEN OLD.`left_is_a` THEN 'right' ELSE 'left' END) AS `side`
  WHERE `prompt_tallies`.`prompt_id` = `side`.`prompt_id`;
  UPDATE `pair_tallies` SET
    `low_wins` = `low_wins` - (`vote`.`choice` = CASE WHEN (OLD.`prompt_a_id` < OLD.`prompt_b_id`) = (OLD.`left_is_a` = 1) THEN 'left' ELSE 'right' END),
    `high_wins` = `high_wins` - (`vote`.`choice` = CASE WHEN (OLD.`prompt_a_id` < OLD.`prompt_b_id`) = (OLD.`left_is_a` = 1) THEN 'right' ELSE 'left' END),
    `draws` = `draws` - (`vote`.`choice` IN ('tie', 'both_bad'))
  FROM (SELECT `choice` FROM `votes` WHERE `assignment_id` = OLD.`id` AND `choice` <> 'skip') AS `vote`
  WHERE `pair_tallies`.`low_prompt_id` = min(OLD.`prompt_a_id`, OLD.`prompt_b_id`) AND `pair_tallies`.`high_prompt_id` = max(OLD.`prompt_a_id`, OLD.`prompt_b_id`);
END;
--> statement-breakpoint
-- The votes already stored, counted once.
INSERT INTO `prompt_tallies` (`prompt_id`, `study_id`, `wins`, `losses`, `ties`, `both_bad`)
  SELECT `side`.`prompt_id`, `side`.`study_id`, sum(`side`.`choice` = `side`.`shown`), sum(`side`.`choice` IN ('left', 'right') AND `side`.`choice` <> `side`.`shown`),
    sum(`side`.`choice` = 'tie'), sum(`side`.`choice` = 'both_bad')
  FROM (
    SELECT a.`prompt_a_id` AS `prompt_id`, v.`study_id`, v.`choice`, CASE WHEN a.`left_is_a` THEN 'left' ELSE 'right' END AS `shown`
      FROM `votes` v JOIN `assignments` a ON a.`id` = v.`assignment_id` WHERE v.`choice` <> 'skip'
    UNION ALL
    SELECT a.`prompt_b_id`, v.`study_id`, v.`choice`, CASE WHEN a.`left_is_a` THEN 'right' ELSE 'left' END
      FROM `votes` v JOIN `assignments` a ON a.`id` = v.`assignment_id` WHERE v.`choice` <> 'skip'
  ) AS `side`
  GROUP BY `side`.`prompt_id`;
--> statement-breakpoint
INSERT INTO `pair_tallies` (`low_prompt_id`, `high_prompt_id`, `low_wins`, `high_wins`, `draws`)
  SELECT min(a.`prompt_a_id`, a.`prompt_b_id`) AS `low`, max(a.`prompt_a_id`, a.`prompt_b_id`) AS `high`,
    sum(v.`choice` = CASE WHEN (a.`prompt_a_id` < a.`prompt_b_id`) = (a.`left_is_a` = 1) THEN 'left' ELSE 'right' END),
    sum(v.`choice` = CASE WHEN (a.`prompt_a_id` < a.`prompt_b_id`) = (a.`left_is_a` = 1) THEN 'right' ELSE 'left' END),
    sum(v.`choice` IN ('tie', 'both_bad'))
  FROM `votes` v JOIN `assignments` a ON a.`id` = v.`assignment_id`
  WHERE v.`choice` <> 'skip'
  GROUP BY `low`, `high`;
--> statement-breakpoint
INSERT INTO `annotator_tallies` (`study_id`, `annotator_id`, `votes`, `skips`, `latency_sum_ms`, `latency_count`)
  SELECT `study_id`, `annotator_id`, count(*), sum(`choice` = 'skip'), coalesce(sum(`latency_ms`), 0), count(`latency_ms`)
  FROM `votes` GROUP BY `study_id`, `annotator_id`;
