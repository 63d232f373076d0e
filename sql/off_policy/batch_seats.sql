-- Free seats per mentor when a batch was scored (empty once the batch is pruned).
SELECT mentor_id, free_seats FROM batch_mentors WHERE batch_id = :batch_id AND free_seats > 0;
