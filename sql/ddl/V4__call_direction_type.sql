-- Direction of a phone call. A value is added later in V31 (its own file:
-- a value added by ALTER TYPE ... ADD VALUE cannot be used in the same transaction).
CREATE TYPE call_direction AS ENUM ('inbound', 'outbound');
