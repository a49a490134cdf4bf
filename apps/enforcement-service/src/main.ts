import 'reflect-metadata';
import { runService } from '@lianfang/runtime';
import { service } from './service';

void runService(service);
